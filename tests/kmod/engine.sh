#!/bin/bash
# The engine on Debian's own kernels: for each of 5.10 (Debian 11), 6.1 (Debian 12) and
# 6.12 (Debian 13), build the module (tests/kmod/boot.sh's build checks), boot the kernel
# under qemu (software emulation, -cpu max for XSAVE), run the module's checks and the
# ioctl fuzzer in the initramfs (tests/kmod/ioctl-guest.sh; KMOD_ENGINE_IOCTL=no leaves
# them out), then, in the same boot, with this machine's Debian 12 userland shared
# read-only over 9p (/usr, /etc and the build tree, at their own paths; /tmp a tmpfs),
# load the crctl module again and run there, as uid 1000 (tests/kmod/engine-guest.sh): engine tests (cr_run,
# cr_checkpoint, cr_restart of C, python3, threaded programs and trees with pipes; the
# ptrace backend, cr_checkpoint --backend=kmod of processes never under cr_run),
# cr_restart's pid restore through the module's grant (tests/kmod/restore_grant.sh),
# and a selection of the conformance suite in the restart and ptrace modes.  Each
# guest prints KMOD-ENGINE lines on its serial console, which this script reads.
#
# Run as root, after make check built the test programs:
#   top_builddir=... top_srcdir=... tests/kmod/engine.sh [SERIES...]  (make check-kmod)
# Exit 0 all passed, 1 a failure (qemu or the packages cannot be had: a failure too), 77
# skipped (not root, or the userland is not Debian 12).  The work folder (consoles,
# build logs) is kept on failure.
# Env: KMOD_CACHE (/var/tmp/slurm-cr-kmod), KMOD_ENGINE_TIMEOUT (s per kernel, 3600),
# KMOD_ENGINE_TESTS (engine tests, names of tests/engine/*.sh), KMOD_CONF_TESTS
# (conformance programs; "none" for none), KMOD_ENGINE_PARALLEL (kernels at once, 1),
# KMOD_FUZZ_SECONDS and KMOD_FUZZ_LONG (the fuzzer: 15 s, 120 s on 6.12), KMOD_KEEP=yes
# (the work folder kept after a pass too: the guests' logs, the conformance runs kept).
set -uo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
: "${top_srcdir:=$src}" "${top_builddir:=$src}"
top_srcdir=$(cd "$top_srcdir" && pwd); top_builddir=$(cd "$top_builddir" && pwd)
KMOD_CACHE=${KMOD_CACHE:-/var/tmp/slurm-cr-kmod}
export KMOD_CACHE
limit=${KMOD_ENGINE_TIMEOUT:-3600}
parallel=${KMOD_ENGINE_PARALLEL:-1}
ioctl=${KMOD_ENGINE_IOCTL:-yes}
# kernel-version-sensitive behaviours: pidfds, rseq, MDWE (6.3), anon vma names (5.17),
# seals, timers, signals, sockets, trees.  Not guard_region (MADV_GUARD_INSTALL, 6.13) nor
# mseal_region (mseal, 6.10): on older kernels their own setup fails before READY, and
# run.sh has no verdict for a program that cannot run here
conf_default="pidfd_self rseq_registered prctl_mdwe anon_vma_name memfd_seals proc_exe
  thread_pending pending_siginfo robust_list sigaltstack_set timerfd_ticks posix_timer
  madv_wipeonfork fpu_modes vdso_unmapped unix_stream_pair tcp_connection session_tree zombie_child"
conf=${KMOD_CONF_TESTS:-$conf_default}
[ "$conf" = none ] && conf=
skip() { echo "SKIP: kmod/engine: $*"; exit 77; }
t0=$(date +%s)

[ "$(id -u)" = 0 ] || skip "needs root (apt-get, chroot, qemu's 9p export of /usr and /etc)"
[ -x "$top_builddir/util/cr_restart" ] || { echo "FAIL: kmod/engine: $top_builddir is not built"; exit 1; }
[ -x "$top_builddir/tests/programs/ptrace_work" ] && [ -x "$top_builddir/tests/conformance/umask" ] ||
    { echo "FAIL: kmod/engine: the test programs are not built (make check TESTS= builds them)"; exit 1; }
[ "$(. /etc/os-release; echo "$ID $VERSION_ID")" = "debian 12" ] ||
    skip "the guests run this machine's userland, which must be Debian 12 (this is $(. /etc/os-release; echo "$PRETTY_NAME"))"
. "$top_srcdir/tests/kmod/lib.sh"
W=$(mktemp -d /var/tmp/kmod-engine.XXXXXX)
echo "kmod/engine: work folder $W"
KMOD_LIST=$W/kernels.list
kmod_prepare "$@" || { echo "FAIL: kmod/engine: cannot prepare (above)"; exit 1; }
if [ "$ioctl" = yes ]; then
    kmod_static_tests "$W" || { echo "FAIL: kmod/engine: cannot build the guest's test programs"; exit 1; }
fi
t1=$(date +%s)
cat > "$W/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
echo "KMOD-BOOT: kernel \$(uname -r) (up \$(cut -d' ' -f1 /proc/uptime) s)"
# the module alone first (tests/kmod/boot.sh's checks), when the host asked for them
if [ -x /ioctl-guest.sh ]; then
    /ioctl-guest.sh "\$(sed -n 's/.*crfuzz=\([0-9]*\).*/\1/p' /proc/cmdline)"
    echo "KMOD-TIME: ioctl checks done at \$(cut -d' ' -f1 /proc/uptime) s"
fi
for m in \$(cat /mods/load.order); do insmod /mods/\$m.ko || echo "KMOD-ENGINE: FAIL insmod \$m"; done
insmod /crctl.ko && echo "KMOD-ENGINE: PASS insmod crctl" || echo "KMOD-ENGINE: FAIL insmod crctl"
# the guest's root: this initramfs, with the host's /usr, /etc and build tree (read-only)
# (a mount of its own, entered by switch_root: in a chroot, unprivileged user namespaces
# are refused with EPERM, and a tree's restart needs one)
R=/newroot
mkdir -p \$R && mount -t tmpfs -o mode=755 root \$R
mkdir -p \$R/usr \$R/etc \$R/proc \$R/sys \$R/dev \$R/tmp \$R/run \$R/var/tmp
for d in tmp run var/tmp; do mount -t tmpfs -o mode=1777 tmp \$R/\$d; done
for l in bin sbin lib lib64 lib32; do ln -s usr/\$l \$R/\$l; done
# (the tree last: it may lie under /var/tmp)
mkdir -p \$R$top_builddir \$R$top_srcdir
o=trans=virtio,version=9p2000.L,msize=262144,cache=loose,ro
mount -t 9p -o \$o usr \$R/usr && mount -t 9p -o \$o etc \$R/etc && mount -t 9p -o \$o build \$R$top_builddir &&
    { [ "$top_srcdir" = "$top_builddir" ] || mount -t 9p -o \$o src \$R$top_srcdir; } ||
    echo "KMOD-ENGINE: FAIL mount the host's folders over 9p"
mount -t proc proc \$R/proc; mount -t sysfs sys \$R/sys; mount -t devtmpfs dev \$R/dev
mkdir -p \$R/dev/shm \$R/dev/pts; mount -t tmpfs -o mode=1777 shm \$R/dev/shm; mount -t devpts devpts \$R/dev/pts
# the one writable share: what failed tests kept, for the host
mkdir -p \$R/kmod-logs && mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 logs \$R/kmod-logs
ip link set lo up; hostname kmod-guest
cp /bin/busybox \$R/busybox && cp /stage2 \$R/stage2
exec switch_root \$R /stage2
echo "KMOD-ENGINE: FAIL switch_root"; poweroff -f
INIT
cat > "$W/stage2" <<STAGE2
#!/busybox sh
/bin/bash $top_srcdir/tests/kmod/engine-guest.sh $top_builddir $top_srcdir 2>&1
if /busybox dmesg | grep -qE 'BUG:|WARNING:|Oops|Call Trace|general protection'; then
    echo "KMOD-ENGINE: FAIL dmesg-clean"; /busybox dmesg | /busybox tail -40 | /busybox sed 's/^/KMOD-LOG dmesg: /'
else echo "KMOD-ENGINE: PASS dmesg-clean"; fi
echo "KMOD-DONE"
/busybox poweroff -f
STAGE2
chmod +x "$W/stage2"
chmod +x "$W/init"

# boot_one SERIES RELEASE VMLINUZ HDIR CHROOT: build, pack, boot; its verdict in $K/verdict
boot_one() {
    local series=$1 release=$2 vmlinuz=$3 hdir=$4 chroot=$5
    local K=$W/$release k0 moddir
    k0=$(date +%s)
    mkdir -p "$K/initrd/bin" "$K/initrd/proc" "$K/initrd/sys" "$K/initrd/dev"
    if ! kmod_build "$release" "$hdir" "$chroot" "$K/build" > "$K/build.log" 2>&1; then
        cat "$K/build/build.log" >> "$K/build.log" 2>/dev/null
        echo "FAIL build" > "$K/verdict"; return
    fi
    cat "$K/build/build.log" >> "$K/build.log"
    if ! kmod_check_build "$release" "$hdir" "$K/build" >> "$K/build.log" 2>&1; then
        echo "FAIL the build is not clean (modpost, exports or vermagic: $K/build.log)" > "$K/verdict"; return
    fi
    local b1 b2 fuzz=
    b1=$(date +%s)
    moddir=$(kmod_moddir "$release")
    # 9p for the shares; the sock_diag modules a Debian system loads on demand (the
    # guest has no modprobe): the dumps ask them for the peers of sockets
    kmod_collect "$moddir" "$K/initrd/mods" 9pnet_virtio 9p virtio_pci unix_diag inet_diag tcp_diag \
        udp_diag netlink_diag > "$K/modules.log" 2>&1 ||
        { echo "FAIL the kernel's 9p modules: $(cat "$K/modules.log")" > "$K/verdict"; return; }
    cp /bin/busybox "$K/initrd/bin/"; cp "$W/init" "$W/stage2" "$K/build/crctl.ko" "$K/initrd/"
    if [ "$ioctl" = yes ]; then
        kmod_ioctl_files "$K/initrd" || { echo "FAIL cannot copy the ioctl checks" > "$K/verdict"; return; }
        fuzz=$(kmod_fuzz_seconds "$series")
    fi
    (cd "$K/initrd" && find . | cpio -o -H newc --quiet | gzip -1) > "$K/initrd.gz"
    b2=$(date +%s)
    local shares=(-virtfs "local,path=/usr,mount_tag=usr,security_model=none,readonly=on,multidevs=remap"
                  -virtfs "local,path=/etc,mount_tag=etc,security_model=none,readonly=on,multidevs=remap"
                  -virtfs "local,path=$top_builddir,mount_tag=build,security_model=none,readonly=on,multidevs=remap")
    mkdir -p "$K/guest-logs"
    # the default selection, and ptrace_tree.sh on 6.12 (too long for every kernel)
    local extra=
    [ -n "${KMOD_ENGINE_TESTS:-}" ] || [ "$series" != 6.12 ] || extra=ptrace_tree
    printf 'KMOD_ENGINE_TESTS=%q\nKMOD_ENGINE_EXTRA=%q\nKMOD_CONF_TESTS=%q\n' "${KMOD_ENGINE_TESTS:-}" "$extra" \
        "$conf" > "$K/guest-logs/config"
    shares+=(-virtfs "local,path=$K/guest-logs,mount_tag=logs,security_model=none")
    [ "$top_srcdir" = "$top_builddir" ] ||
        shares+=(-virtfs "local,path=$top_srcdir,mount_tag=src,security_model=none,readonly=on,multidevs=remap")
    # TCG (no KVM here); -cpu max: the dumps need XSAVE, which qemu64 lacks
    timeout "$limit" qemu-system-x86_64 -accel tcg -cpu max -m 2048 -smp 2 -nographic -no-reboot \
        -monitor none -serial stdio -kernel "$vmlinuz" -initrd "$K/initrd.gz" "${shares[@]}" \
        -append "console=ttyS0 panic=-1 oops=panic loglevel=4 no_timer_check rdinit=/init crfuzz=$fuzz" \
        < /dev/null > "$K/console.log" 2>&1
    local qrc=$? b3 v=
    b3=$(date +%s)
    kmod_console "$K/console.log" "$K/console.txt"
    local p f
    p=$(grep -c '^KMOD-ENGINE: PASS' "$K/console.txt"); f=$(grep -c '^KMOD-ENGINE: FAIL' "$K/console.txt")
    [ "$ioctl" != yes ] || v=$(kmod_ioctl_verdict "$K/console.txt")
    if ! grep -Fq "KMOD-BOOT: kernel $release (up " "$K/console.txt"; then
        echo "FAIL the guest did not run our init (qemu exit $qrc)" > "$K/verdict"
    elif ! grep -q '^KMOD-DONE' "$K/console.txt"; then
        echo "FAIL the guest did not finish within ${limit}s (qemu exit $qrc)" > "$K/verdict"
    elif [ -n "$v" ] && [ "${v%% *}" != PASS ]; then
        echo "$v" > "$K/verdict"
    elif ! grep -q '^KMOD-ENGINE: guest tests done' "$K/console.txt"; then
        echo "FAIL the guest's tests did not run to their end (tests/kmod/engine-guest.sh)" > "$K/verdict"
    elif [ "$f" != 0 ]; then
        echo "FAIL $p passed, $f failed" > "$K/verdict"
    else
        echo "PASS $p passed${v:+, ${v#PASS }}" > "$K/verdict"
    fi
    echo "$(cat "$K/verdict") (build $((b1 - k0)) s, initramfs $((b2 - b1)) s, qemu $((b3 - b2)) s${fuzz:+, fuzzer $fuzz s})" > "$K/verdict"
}

running=0
releases=()
while read -r series release vmlinuz hdir chroot; do
    releases+=("$release")
    boot_one "$series" "$release" "$vmlinuz" "$hdir" "$chroot" &
    running=$((running + 1))
    [ $running -lt "$parallel" ] || { wait -n; running=$((running - 1)); }
done < "$KMOD_LIST"
wait
[ ${#releases[@]} -gt 0 ] || { echo "FAIL: kmod/engine: no kernel was tested"; exit 1; }
fail=0
for r in "${releases[@]}"; do
    echo "---- $r"
    [ -f "$W/$r/console.txt" ] && grep -E '^KMOD-(BOOT|ENGINE|LOG|TIME)|^KMOD-TEST: (FAIL|PASS fuzz-(root|user))' "$W/$r/console.txt"
    v=$(cat "$W/$r/verdict" 2>/dev/null || echo "FAIL no verdict")
    case $v in PASS*) ;; *) fail=1; [ -f "$W/$r/build.log" ] && tail -20 "$W/$r/build.log" ;; esac
    echo "${v%% *}: kmod/engine $r: ${v#* }"
done
echo "---- kmod/engine: $(( $(date +%s) - t0 )) s in all"
if [ $fail = 0 ] && [ "${KMOD_KEEP:-no}" != yes ]; then rm -rf "$W"; else echo "kmod/engine: logs kept in $W"; fi
[ $fail = 0 ]
