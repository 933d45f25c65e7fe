#!/bin/bash
# The kernel module alone under real Debian kernels: for each of 5.10 (Debian 11), 6.1
# (Debian 12) and 6.12 (Debian 13), build kmod/ against that kernel's headers package
# (modpost must be silent and every undefined symbol exported by that kernel), boot the
# kernel under qemu (software emulation: no KVM) with a tiny initramfs (busybox-static,
# crctl.ko, tests/kmod/crctl_test.c and crctl_fuzz.c built static) whose init runs
# tests/kmod/ioctl-guest.sh (insmod, the ioctl checks as root and as uid 1000, the
# fuzzer, rmmod, reload) and checks dmesg; the guest prints KMOD-TEST lines on the serial
# console, which this script reads.  tests/kmod/check.sh (make check) runs it on the
# kernels whose boot has no engine tests; tests/kmod/engine.sh runs the same checks
# first in its own boots.
#
# Run as root: tests/kmod/boot.sh [SERIES...]   (default 5.10 6.1 6.12)
# Exit 0 all passed, 1 a failure (qemu or the packages cannot be had: a failure too),
# 77 not root.
# Env: KMOD_CACHE (default /var/tmp/slurm-cr-kmod), KMOD_BOOT_TIMEOUT (s, default 300),
# KMOD_FUZZ_SECONDS (the ioctl fuzzer per kernel, default 15), KMOD_FUZZ_LONG (on 6.12,
# default 120).
set -uo pipefail
top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
KMOD_CACHE=${KMOD_CACHE:-/var/tmp/slurm-cr-kmod}
export KMOD_CACHE
boot_timeout=${KMOD_BOOT_TIMEOUT:-300}
t0=$(date +%s)
[ "$(id -u)" = 0 ] || { echo "SKIP: kmod/boot: needs root (apt-get, chroot, building initramfs as uid 0)"; exit 77; }
. "$top_srcdir/tests/kmod/lib.sh"
W=$(mktemp -d /var/tmp/kmod-boot.XXXXXX)
echo "kmod/boot: work folder $W"
KMOD_LIST=$W/kernels.list
kmod_prepare "$@" || { echo "FAIL: kmod/boot: cannot prepare (above)"; exit 1; }
kmod_static_tests "$W" || { echo "FAIL: kmod/boot: cannot build the guest's test programs"; exit 1; }
t1=$(date +%s)

cat > "$W/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev; mount -t tmpfs tmp /tmp
chmod 1777 /tmp
echo "KMOD-BOOT: kernel $(uname -r)"
/ioctl-guest.sh "$(sed -n 's/.*crfuzz=\([0-9]*\).*/\1/p' /proc/cmdline)"
if dmesg | grep -qE 'BUG:|WARNING:|Oops|Call Trace|general protection|UBSAN|KASAN'; then
    echo "KMOD-TEST: FAIL dmesg-clean"; dmesg | tail -40 | sed 's/^/KMOD-DMESG: /'
else echo "KMOD-TEST: PASS dmesg-clean"; fi
echo "KMOD-DONE"
poweroff -f
INIT
chmod +x "$W/init"

total_fail=0; summary=()
while read -r series release vmlinuz hdir chroot; do
    k0=$(date +%s); kfail=0
    K=$W/$release; mkdir -p "$K/initrd/bin" "$K/initrd/proc" "$K/initrd/sys" "$K/initrd/dev" "$K/initrd/tmp"
    kmod_build "$release" "$hdir" "$chroot" "$K/build"; rc=$?
    echo "---- $release: build log ($([ "$chroot" = - ] && echo "host gcc" || echo "chroot $chroot"))"
    cat "$K/build/build.log" 2>/dev/null
    if [ $rc != 0 ]; then
        echo "FAIL: kmod/boot $release: build failed"; total_fail=$((total_fail + 1))
        summary+=("$release: build FAILED"); continue
    fi
    kmod_check_build "$release" "$hdir" "$K/build" || kfail=1
    b1=$(date +%s)

    cp /bin/busybox "$K/initrd/bin/busybox"
    cp "$W/init" "$K/build/crctl.ko" "$K/initrd/" && kmod_ioctl_files "$K/initrd"
    fuzz=$(kmod_fuzz_seconds "$series")
    (cd "$K/initrd" && find . | cpio -o -H newc --quiet | gzip -1) > "$K/initrd.gz"
    b2=$(date +%s)
    # TCG only: KVM hangs on this machine; timeout bounds a guest that never powers off
    timeout "$boot_timeout" qemu-system-x86_64 -accel tcg -m 512 -smp 1 -nographic -no-reboot \
        -monitor none -serial stdio -kernel "$vmlinuz" -initrd "$K/initrd.gz" \
        -append "console=ttyS0 panic=-1 oops=panic loglevel=4 rdinit=/init crfuzz=$fuzz" \
        < /dev/null > "$K/console.log" 2>&1
    qrc=$?
    b3=$(date +%s)
    kmod_console "$K/console.log" "$K/console.txt"
    echo "---- $release: guest console (KMOD lines)"
    grep -E '^KMOD-' "$K/console.txt"
    grep -q 'KMOD-BOOT: kernel '"$release"'$' "$K/console.txt" || { echo "FAIL: $release: the guest did not run our init (console: $K/console.txt)"; kfail=1; }
    grep -q '^KMOD-DONE' "$K/console.txt" || { echo "FAIL: $release: the guest did not finish (qemu exit $qrc, timeout ${boot_timeout}s; console: $K/console.txt)"; kfail=1; }
    v=$(kmod_ioctl_verdict "$K/console.txt")
    case $v in PASS*) ;; *) echo "FAIL: $release: ${v#FAIL }"; kfail=1 ;; esac
    grep -q '^KMOD-TEST: PASS dmesg-clean' "$K/console.txt" || kfail=1
    total_fail=$((total_fail + kfail))
    res=PASS; [ $kfail = 0 ] || res=FAIL
    summary+=("$release: $res, ${v#* }; build $((b1 - k0)) s, initramfs $((b2 - b1)) s, qemu $((b3 - b2)) s (fuzzer ${fuzz} s)")
    echo "$res: kmod/boot $release (${v#* }; build $((b1 - k0)) s, qemu $((b3 - b2)) s)"
done < "$KMOD_LIST"

echo "---- summary ($(($(date +%s) - t0)) s in all, of which preparing $((t1 - t0)) s)"
printf '  %s\n' "${summary[@]}"
[ ${#summary[@]} -gt 0 ] || { echo "FAIL: kmod/boot: no kernel was tested"; exit 1; }
if [ $total_fail = 0 ]; then rm -rf "$W"; else echo "kmod/boot: logs kept in $W"; fi
[ $total_fail = 0 ]
