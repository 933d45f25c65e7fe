#!/bin/bash
# Run inside the qemu guest by tests/kmod/engine.sh, as root, in the Debian 12 userland
# shared from the host (/usr, /etc and the build tree, read-only): the engine's tests
# as a normal user (uid 1000) against this kernel, one KMOD-ENGINE line each.
# Usage: engine-guest.sh TOP_BUILDDIR TOP_SRCDIR
b=$1 s=$2
U=1000
# the host's choice of tests (KMOD_ENGINE_TESTS, KMOD_CONF_TESTS), through the log share
[ -f /kmod-logs/config ] && . /kmod-logs/config
export top_builddir=$b top_srcdir=$s CR_RUN_LIB=$b/libcr/.libs/libcr_run.so \
    CR_OMIT_LIB=$b/libcr/.libs/libcr_omit.so PYTHON3=python3 TMPDIR=/tmp HOME=/tmp TEST_USER=
# (not threads.sh nor pipelines.sh: their reference runs and data take too long under
# emulation; ptrace_dump.sh has a threaded program, tree.sh a pipeline; step_kmod.sh
# is the node agent with backend=kmod and the module loaded)
# KMOD_ENGINE_EXTRA: ptrace_tree.sh on the newest kernel (the module's backend on a
# pipeline and trees; 14 minutes under emulation on a loaded machine)
ENGINE="${KMOD_ENGINE_TESTS:-ptrace_dump python tree signals incremental step_kmod} ${KMOD_ENGINE_EXTRA:-}"
CONF=${KMOD_CONF_TESTS:-}
as_user=(setpriv --reuid=$U --regid=$U --clear-groups env PATH=/usr/bin:/bin)
say() { echo "KMOD-ENGINE: $*"; }
# run_test NAME LIMIT CMD...: one verdict line; the log's tail on failure
run_test() {
    local name=$1 limit=$2 t0 rc log; shift 2
    log=/tmp/log.${name//\//_}
    t0=$(date +%s)
    # the user's own file: a restored tree reopens its stderr by path, as the user
    : > "$log" && chown $U "$log"
    timeout -k 10 "$limit" "$@" > "$log" 2>&1; rc=$?
    case $rc in
    0) say "PASS $name ($(( $(date +%s) - t0 )) s)" ;;
    77) say "SKIP $name: $(grep -m1 '^SKIP' "$log")" ;;
    *) say "FAIL $name (exit $rc, $(( $(date +%s) - t0 )) s)"; tail -40 "$log" | sed "s|^|KMOD-LOG $name: |" ;;
    esac
    # what a failed test kept (tests/engine/lib.sh), to the host's work folder
    if [ $rc != 0 ] && [ $rc != 77 ] && [ -d /kmod-logs ]; then
        mkdir -p "/kmod-logs/${name//\//_}" && cp "$log" "/kmod-logs/${name//\//_}/"
        cp -r /tmp/slurm-cr-test.* /tmp/tmp.* "/kmod-logs/${name//\//_}/" 2>/dev/null
    fi
    rm -rf /tmp/slurm-cr-test.* /tmp/tmp.*
}
say "kernel $(uname -r), userland Debian $(cat /etc/debian_version), uid $U"
run_test kmod/restore_grant 600 "${as_user[@]}" bash "$s/tests/kmod/restore_grant.sh"
if [ -e /sys/module/crctl/parameters/allow_restore_grant ]; then
    echo 0 > /sys/module/crctl/parameters/allow_restore_grant
    run_test kmod/restore_grant_off 300 "${as_user[@]}" CR_GRANT_OFF=1 bash "$s/tests/kmod/restore_grant.sh"
    echo 1 > /sys/module/crctl/parameters/allow_restore_grant
fi
for t in $ENGINE; do
    run_test "engine/$t" 1500 "${as_user[@]}" bash "$s/tests/engine/$t.sh"
done
if [ -n "$CONF" ]; then
    # (the runs it keeps, failed, known or fixed, in a folder the user may write)
    mkdir -p /tmp/conformance-runs && chown $U /tmp/conformance-runs
    run_test conformance 1800 "${as_user[@]}" bash "$s/tests/conformance/run.sh" -k /tmp/conformance-runs \
        -m restart,ptrace $CONF
    # to the host's work folder: what ran in each kept run, to see why
    [ ! -d /kmod-logs ] || cp -r /tmp/conformance-runs /kmod-logs/ 2>/dev/null
    grep -E '^(FAIL|KNOWN|FIXED)|^[0-9]+ tests, modes' /tmp/log.conformance | sed 's/^/KMOD-LOG conformance: /'
    say "conformance: $(grep -E "^[0-9]+ passed" /tmp/log.conformance)"
fi
say "guest tests done"
