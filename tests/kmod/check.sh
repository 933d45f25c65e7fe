#!/bin/bash
# The kernel module in make check (root; the long version is make check-kmod): on each of
# Debian 11's 5.10, 12's 6.1 and 13's 6.12 the module is built (modpost clean, every
# symbol exported by that kernel), and one qemu boot per kernel loads it, runs the ioctl
# checks as root and as uid 1000, a short ioctl fuzz (root and uid 1000), unloads and
# reloads it, with a clean dmesg (tests/kmod/ioctl-guest.sh).  On one kernel (the newest,
# 6.12; KMOD_CHECK_ENGINE=SERIES for another) that same boot then runs the engine as
# uid 1000 with this machine's userland (tests/kmod/engine.sh): pid restore through the
# module's grant, for a process and for trees, and its refusals (restore_grant.sh),
# user-backend images restarted through the module and module-backend images restarted
# (both ways), programs never under cr_run checkpointed with --backend=kmod (C, static,
# python3, threaded; a tree in restore_grant.sh) and another uid's process refused
# (ptrace_dump.sh), the node agent with backend=kmod (step_kmod.sh).
# Everything the tests download or build is cached in /var/tmp/slurm-cr-kmod
# (scripts/kmod-fetch, which scripts/install-deps runs before the tests; safe when two
# runs share it).  (boot.sh's guests beside the engine's saved nothing on 2 cores:
# doc/testing.md)
# qemu, busybox or the kernels' packages that cannot be had are a failure; SKIP (77)
# only when not root, or (the engine part) on a host whose userland is not Debian 12.
# Env: KMOD_FUZZ_SECONDS (10), KMOD_CHECK_ENGINE (6.12), KMOD_ENGINE_TESTS (the engine
# tests there), KMOD_CHECK_TIMEOUT (s for the whole test, 1500).
set -uo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
: "${top_srcdir:=$src}" "${top_builddir:=$src}"
export top_srcdir top_builddir
t0=$(date +%s)
[ "$(id -u)" = 0 ] || { echo "SKIP: kmod/check: needs root (apt-get, chroot, qemu's 9p export of /usr)"; exit 77; }
engine=${KMOD_CHECK_ENGINE:-6.12}
others=()
for s in 5.10 6.1 6.12; do [ "$s" = "$engine" ] || others+=("$s"); done
[ ${#others[@]} = 2 ] || { echo "FAIL: kmod/check: KMOD_CHECK_ENGINE=$engine is not one of 5.10, 6.1, 6.12"; exit 1; }
export KMOD_FUZZ_SECONDS=${KMOD_FUZZ_SECONDS:-10}
export KMOD_FUZZ_LONG=$KMOD_FUZZ_SECONDS
# (not ptrace_tree.sh, whose pipelines and fork storm take over 10 minutes under
# emulation: make check-kmod runs it)
export KMOD_ENGINE_TESTS=${KMOD_ENGINE_TESTS:-ptrace_dump step_kmod}
export KMOD_CONF_TESTS=none KMOD_BOOT_TIMEOUT=${KMOD_BOOT_TIMEOUT:-300}
# the whole test is bounded: what is left of KMOD_CHECK_TIMEOUT for each part
limit=${KMOD_CHECK_TIMEOUT:-1500}
# (at least 60 s: timeout 0 would mean no limit)
left() { local l=$(( limit - ($(date +%s) - t0) )); [ $l -ge 60 ] || l=60; echo $l; }

# qemu at a lower priority: beside it, make -j2 runs the Slurm tests, whose daemons must
# answer in time
renice -n 10 $$ > /dev/null
echo "==== the module alone on ${others[*]} (tests/kmod/boot.sh)"
timeout -k 30 "$(left)" "$top_srcdir/tests/kmod/boot.sh" "${others[@]}"; brc=$?
echo "==== the module and the engine on $engine (tests/kmod/engine.sh: $KMOD_ENGINE_TESTS)"
# (qemu's own limit first, so that engine.sh reports what the guest had done)
export KMOD_ENGINE_TIMEOUT=$(( $(left) - 45 ))
timeout -k 30 "$(left)" "$top_srcdir/tests/kmod/engine.sh" "$engine"; erc=$?
if [ $erc = 77 ] && [ $brc = 0 ]; then
    # (the module alone there too, so that all three kernels are tested)
    echo "==== the module alone on $engine"
    timeout -k 30 "$(left)" "$top_srcdir/tests/kmod/boot.sh" "$engine" || brc=1
fi
echo "==== kmod/check: $(( $(date +%s) - t0 )) s in all"
[ $brc = 0 ] || { echo "FAIL: kmod/check: the module alone failed (tests/kmod/boot.sh, exit $brc)"; exit 1; }
case $erc in
0) exit 0 ;;
77) echo "SKIP: kmod/check: the module passed on 5.10, 6.1 and 6.12, but the engine tests did not run (above)"; exit 77 ;;
124|137) echo "FAIL: kmod/check: tests/kmod/engine.sh did not end within KMOD_CHECK_TIMEOUT=${limit}s"; exit 1 ;;
*) echo "FAIL: kmod/check: the engine on $engine failed (tests/kmod/engine.sh, exit $erc)"; exit 1 ;;
esac
