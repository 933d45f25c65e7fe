#!/bin/bash
# The kernel module under real Debian kernels: for each of 5.10 (Debian 11), 6.1
# (Debian 12) and 6.12 (Debian 13), build kmod/ against that kernel's headers package
# (modpost must be silent and every undefined symbol exported by that kernel), boot the
# kernel under qemu (software emulation: no KVM) with a tiny initramfs (busybox-static,
# crctl.ko, tests/kmod/crctl_test.c built static) that insmods the module, runs the
# ioctl checks as root and as uid 1000, rmmods it and checks dmesg; the guest prints
# KMOD-TEST lines on the serial console, which this script reads.
#
# Run as root: tests/kmod/boot.sh [SERIES...]   (default 5.10 6.1 6.12)
# Exit 0 all passed, 1 a failure, 77 skipped (the reason is printed).
# Env: KMOD_CACHE (default /var/tmp/slurm-cr-kmod), KMOD_BOOT_TIMEOUT (s, default 300),
# KMOD_FUZZ_SECONDS (the ioctl fuzzer per kernel, default 15), KMOD_FUZZ_LONG (on the
# last kernel, 6.12, default 120).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
KMOD_CACHE=${KMOD_CACHE:-/var/tmp/slurm-cr-kmod}
export KMOD_CACHE
boot_timeout=${KMOD_BOOT_TIMEOUT:-300}
fuzz_short=${KMOD_FUZZ_SECONDS:-15}
fuzz_long=${KMOD_FUZZ_LONG:-120}
skip() { echo "SKIP: kmod/boot: $*"; exit 77; }
t0=$(date +%s)

[ "$(id -u)" = 0 ] || skip "needs root (apt-get, chroot, building initramfs as uid 0)"
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
[ -x /bin/busybox ] && file /bin/busybox 2>/dev/null | grep -q 'statically linked' || need+=(busybox-static)
command -v cpio >/dev/null || need+=(cpio)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v file >/dev/null || need+=(file)
if [ ${#need[@]} -gt 0 ]; then
    timeout 600 apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null 2>&1 ||
        skip "cannot install ${need[*]} with apt-get"
fi
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed"
"$top/scripts/kmod-fetch" "$@" > /dev/null || skip "scripts/kmod-fetch could not fetch the kernels' packages"

W=$(mktemp -d /var/tmp/kmod-boot.XXXXXX)
echo "kmod/boot: work folder $W"
for t in crctl_test crctl_fuzz; do
    gcc -static -O2 -Wall -Wextra -Werror -o "$W/$t" "$top/tests/kmod/$t.c" ||
        { echo "FAIL: kmod/boot: cannot build tests/kmod/$t.c"; exit 1; }
done

cat > "$W/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev; mount -t tmpfs tmp /tmp
chmod 1777 /tmp
echo "KMOD-BOOT: kernel $(uname -r)"
if insmod /crctl.ko; then echo "KMOD-TEST: PASS insmod"; else echo "KMOD-TEST: FAIL insmod"; fi
/crctl_test
# the fuzzer, on a tmpfs of its own: a file reference the module leaked keeps it busy
fuzz=$(sed -n 's/.*crfuzz=\([0-9]*\).*/\1/p' /proc/cmdline)
mkdir -p /fuzz && mount -t tmpfs fuzz /fuzz
/crctl_fuzz "${fuzz:-10}" /fuzz
if umount /fuzz; then echo "KMOD-TEST: PASS fuzz-no-file-reference-left"
else echo "KMOD-TEST: FAIL fuzz-no-file-reference-left - the fuzzer's tmpfs is still busy"; fi
if rmmod crctl; then echo "KMOD-TEST: PASS rmmod"; else echo "KMOD-TEST: FAIL rmmod"; fi
if [ ! -e /dev/crctl ] && ! grep -q '^crctl ' /proc/modules; then echo "KMOD-TEST: PASS unloaded"
else echo "KMOD-TEST: FAIL unloaded - /dev/crctl or the module is still there"; fi
# reload: a clean unload leaves nothing that stops a second load
if insmod /crctl.ko && rmmod crctl; then echo "KMOD-TEST: PASS reload"; else echo "KMOD-TEST: FAIL reload"; fi
dmesg | grep -E 'crctl' | sed 's/^/KMOD-DMESG: /'
if dmesg | grep -qE 'BUG:|WARNING:|Oops|Call Trace|general protection|UBSAN|KASAN'; then
    echo "KMOD-TEST: FAIL dmesg-clean"; dmesg | tail -40 | sed 's/^/KMOD-DMESG: /'
else echo "KMOD-TEST: PASS dmesg-clean"; fi
echo "KMOD-DONE"
poweroff -f
INIT
chmod +x "$W/init"

total_pass=0; total_fail=0; summary=()
while read -r series release vmlinuz hdir chroot; do
    case " ${*:-5.10 6.1 6.12} " in *" $series "*) ;; *) continue ;; esac
    k0=$(date +%s); kfail=0
    K=$W/$release; mkdir -p "$K/build" "$K/initrd/bin" "$K/initrd/proc" "$K/initrd/sys" \
        "$K/initrd/dev" "$K/initrd/tmp"
    cp "$top"/kmod/{Kbuild,Makefile,*.c,*.h} "$K/build/"
    # build: on this machine, or in the Debian chroot whose gcc the headers name
    if [ "$chroot" = - ]; then
        timeout 600 make -C "$K/build" KDIR="$hdir" CC=gcc -j2 > "$K/build.log" 2>&1; rc=$?
    else
        rm -rf "$chroot/build"; mkdir -p "$chroot/build"; cp "$K/build/"* "$chroot/build/"
        timeout 600 chroot "$chroot" make -C /build KDIR="/usr/src/linux-headers-$release" -j2 \
            > "$K/build.log" 2>&1; rc=$?
        cp "$chroot/build/crctl.ko" "$K/build/" 2>/dev/null
    fi
    echo "---- $release: build log ($([ "$chroot" = - ] && echo "host gcc" || echo "chroot $chroot"))"
    cat "$K/build.log"
    if [ $rc != 0 ] || [ ! -f "$K/build/crctl.ko" ]; then
        echo "FAIL: kmod/boot $release: build failed"; total_fail=$((total_fail + 1))
        summary+=("$release: build FAILED"); continue
    fi
    if grep -E 'WARNING|undefined|unresolved|error' "$K/build.log" | grep -v 'Skipping BTF'; then
        echo "FAIL: kmod/boot $release: modpost or the compiler warned"; kfail=1
    fi
    # every undefined symbol of the module, and the line of Module.symvers exporting it
    echo "---- $release: undefined symbols of crctl.ko and their exports"
    for s in $(nm -u "$K/build/crctl.ko" | awk '{print $2}'); do
        line=$(awk -v s="$s" '$2 == s {print $1, $2, $3, $4}' "$hdir/Module.symvers")
        if [ -n "$line" ]; then echo "  $line"
        else echo "  $s NOT EXPORTED by $release"; kfail=1; fi
    done
    vm=$(objcopy -O binary --only-section=.modinfo "$K/build/crctl.ko" /dev/stdout | tr '\0' '\n' |
         sed -n 's/^vermagic=//p')
    case "$vm" in "$release "*) ;; *) echo "FAIL: vermagic '$vm' is not $release"; kfail=1 ;; esac
    b1=$(date +%s)

    cp /bin/busybox "$K/initrd/bin/busybox"
    cp "$W/init" "$K/build/crctl.ko" "$W/crctl_test" "$W/crctl_fuzz" "$K/initrd/"
    fuzz=$fuzz_short; [ "$series" = 6.12 ] && fuzz=$fuzz_long
    (cd "$K/initrd" && find . | cpio -o -H newc --quiet | gzip -1) > "$K/initrd.gz"
    # TCG only: KVM hangs on this machine; timeout bounds a guest that never powers off
    timeout "$boot_timeout" qemu-system-x86_64 -accel tcg -m 512 -smp 1 -nographic -no-reboot \
        -monitor none -serial stdio -kernel "$vmlinuz" -initrd "$K/initrd.gz" \
        -append "console=ttyS0 panic=-1 oops=panic loglevel=4 rdinit=/init crfuzz=$fuzz" \
        < /dev/null > "$K/console.log" 2>&1
    qrc=$?
    b2=$(date +%s)
    # without carriage returns and the firmware's terminal escapes
    tr -d '\r' < "$K/console.log" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1bc//g' > "$K/console.txt"
    echo "---- $release: guest console (KMOD lines)"
    grep -E '^KMOD-' "$K/console.txt"
    p=$(grep -c '^KMOD-TEST: PASS' "$K/console.txt"); f=$(grep -c '^KMOD-TEST: FAIL' "$K/console.txt")
    grep -q 'KMOD-BOOT: kernel '"$release"'$' "$K/console.txt" || { echo "FAIL: $release: the guest did not run our init (console: $K/console.txt)"; kfail=1; }
    grep -q '^KMOD-DONE' "$K/console.txt" || { echo "FAIL: $release: the guest did not finish (qemu exit $qrc, timeout ${boot_timeout}s; console: $K/console.txt)"; kfail=1; }
    # the checks crctl_test.c makes; fewer PASS lines means some never ran
    [ "$p" -ge 92 ] || { echo "FAIL: $release: only $p checks passed (92 expected)"; kfail=1; }
    [ "$f" = 0 ] || kfail=1
    total_pass=$((total_pass + p)); total_fail=$((total_fail + f + kfail))
    res=PASS; [ $kfail = 0 ] && [ "$f" = 0 ] || res=FAIL
    summary+=("$release: $res, $p checks passed, $f failed; build $((b1 - k0)) s, boot+test $((b2 - b1)) s (fuzzer ${fuzz} s)")
    echo "$res: kmod/boot $release ($p passed, $f failed; build $((b1 - k0)) s, qemu $((b2 - b1)) s)"
done < "$KMOD_CACHE/kernels.list"

echo "---- summary ($(($(date +%s) - t0)) s in all)"
printf '  %s\n' "${summary[@]}"
[ ${#summary[@]} -gt 0 ] || { echo "FAIL: kmod/boot: no kernel was tested"; exit 1; }
echo "$total_pass passed, $total_fail failed"
[ $total_fail = 0 ] && rm -rf "$W"
[ $total_fail = 0 ]
