# cr_restart through the crctl module's restore grant (doc/kmod-design.md section 4), as
# a normal user on a machine where /dev/crctl is loaded: run in the qemu guests by
# tests/kmod/engine.sh (tests/kmod/engine-guest.sh), as uid 1000 with the engine tests'
# environment.  A process alone comes back with its old pid by default and with
# --restore-pid, its exe link (/proc/PID/exe) the program's, holding no capability and
# dumpable (checkpointed again); a taken pid is
# EBUSY naming it with nothing started; a grant the module refuses (a file writable by
# others) is said with the module's reason: --restore-pid fails and starts nothing, the
# default restart goes on with a new pid.  A tree (under cr_run, and one never under it
# checkpointed with --backend=kmod) comes back with --restore-pid with every old pid in
# place (EBUSY naming a taken one, nothing started), its processes holding no
# capability and dumpable.  With CR_GRANT_OFF=1 (the guest turned
# allow_restore_grant off) the refusal names the administrator's switch.
. "$top_srcdir/tests/engine/lib.sh"
[ "$(id -u)" != 0 ] || skip "runs as a normal user (root needs no grant)"
[ -c /dev/crctl ] || skip "no /dev/crctl: the crctl module is not loaded"
PY=${PYTHON3:-python3}
cat > "$T/pid.py" <<'PYEOF'
import os, sys, threading, time
go = sys.argv[1]
print("pid", os.getpid(), flush=True)
while not os.path.exists(go):
    time.sleep(0.02)
# real: the kernel's pid, the main thread's tid (gettid is never translated by the
# pid map; getpid, /proc/self and syscall(SYS_getpid) give the pid the program knows)
print("pid", os.getpid(), "real", threading.get_native_id(), flush=True)
PYEOF

# start: the python above under cr_run, its pid in $pid once it printed it
start() {
    rm -f "$T/go" "$T/out"
    bg "$CR_RUN" "$PY" "$T/pid.py" "$T/go" > "$T/out" 2> "$T/run.err"
    pid=$!
    wait_lines "$T/out" 1
    [ "$(cat "$T/out")" = "pid $pid" ] || fail "unexpected first line: $(cat "$T/out") (pid $pid)"
    wait_runtime $pid
}
# restarted NAME CR_RESTART_ARGS...: restart $T/NAME.ctx in the background, let it go on,
# wait for its second line; sets rpid (the pid it printed: its old one under the pid map
# of a normal user's restart), rreal (the kernel's: its tid) and rrc (cr_restart's status)
restarted() {
    local name=$1; shift
    "$CR_RESTART" "$@" "$T/$name.ctx" >> "$T/out" 2> "$T/$name.restart.err" &
    local r=$!
    track $r
    touch "$T/go"
    wait_lines "$T/out" 2 120
    rpid=$(sed -n '2s/^pid \([0-9]*\) real .*/\1/p' "$T/out")
    rreal=$(sed -n '2s/.* real //p' "$T/out")
    rrc=0; wait $r || rrc=$?
}

if [ "${CR_GRANT_OFF:-0}" = 1 ]; then
    start
    within 120 "$CR_CHECKPOINT" --kill -f "$T/off.ctx" $pid || fail "checkpoint --kill failed"
    wait_gone $pid
    expect_refusal 1 "--restore-pid: the crctl module does not grant restores here .*allow_restore_grant=0" \
        "$CR_RESTART" --restore-pid "$T/off.ctx"
    [ "$(wc -l < "$T/out")" = 1 ] || fail "a refused restart started something: $(cat "$T/out")"
    pass
fi

# the default: the old pid, no capability left, dumpable, checkpointed again
start
exe=$(readlink /proc/$pid/exe)
within 120 "$CR_CHECKPOINT" --kill -f "$T/a.ctx" $pid || fail "checkpoint --kill failed"
wait_gone $pid
"$CR_RESTART" "$T/a.ctx" >> "$T/out" 2> "$T/a.restart.err" &
r=$!
track $r
i=0
until grep -q "@slurm-cr/$pid\." /proc/net/unix 2>/dev/null; do
    i=$((i + 1)); [ $i -le 2400 ] || fail "the process did not come back as pid $pid: $(cat "$T/a.restart.err")"
    kill -0 $r 2>/dev/null || fail "cr_restart ended before pid $pid came back: $(cat "$T/a.restart.err")"
    sleep 0.05
done
[ "$(readlink /proc/$pid/exe)" = "$exe" ] ||
    fail "the exe link is $(readlink /proc/$pid/exe), not $exe (PR_SET_MM_MAP exe_fd)"
caps=$(awk '/^Cap(Prm|Eff|Inh|Amb):/ {printf "%s ", $2}' /proc/$pid/status)
[ "$caps" = "0000000000000000 0000000000000000 0000000000000000 0000000000000000 " ] ||
    fail "the restored process holds capabilities (CapInh CapPrm CapEff CapAmb: $caps)"
# the grant took CAP_CHECKPOINT_RESTORE (40) out of the bounding set for good (only the
# module's END puts it back, in cr_restart): the restored process keeps the rest
bnd=$(printf '%016x' $(( 0x$(awk '/^CapBnd:/ {print $2}' /proc/self/status) & ~(1 << 40) )))
[ "$(awk '/^CapBnd:/ {print $2}' /proc/$pid/status)" = "$bnd" ] ||
    fail "the restored process's bounding set is $(awk '/^CapBnd:/ {print $2}' /proc/$pid/status), not $bnd"
[ "$(stat -c %u /proc/$pid)" = "$(id -u)" ] || fail "/proc/$pid is not the user's (the process stayed non-dumpable)"
within 120 "$CR_CHECKPOINT" -f "$T/again.ctx" $pid || fail "the restored process cannot be checkpointed again"
touch "$T/go"
wait_lines "$T/out" 2 120
rc=0; wait $r || rc=$?
[ $rc = 0 ] || fail "cr_restart exited $rc: $(cat "$T/a.restart.err")"
[ "$(sed -n 2p "$T/out")" = "pid $pid real $pid" ] || fail "the process did not get its old pid $pid: $(cat "$T/out")"
grep -q 'new pid' "$T/a.restart.err" && fail "cr_restart said it gave a new pid: $(cat "$T/a.restart.err")"

# --restore-pid while the pid is taken: EBUSY naming it, nothing started
start
within 120 "$CR_CHECKPOINT" -f "$T/b.ctx" $pid || fail "checkpoint (going on) failed"
expect_refusal 16 "pid $pid .*in use; nothing was started" "$CR_RESTART" --restore-pid "$T/b.ctx"
[ "$(wc -l < "$T/out")" = 1 ] || fail "a refused restart started something: $(cat "$T/out")"
kill -9 $pid; wait_gone $pid
restarted b --restore-pid
[ $rrc = 0 ] || fail "cr_restart --restore-pid exited $rrc: $(cat "$T/b.restart.err")"
[ "$rpid" = "$pid" ] && [ "$rreal" = "$pid" ] || fail "--restore-pid did not give the old pid $pid: $(cat "$T/out")"

# a tree (the user backend's, and one never under cr_run, --backend=kmod), with
# --restore-pid: every process back with its old pid, in place (no namespace), holding
# no capability and dumpable (what each prints of itself after the restart, as before
# the checkpoint)
cat > "$T/tree.py" <<'PYEOF'
import os, sys, time
go = sys.argv[1]
c = os.fork()
def me():
    caps = [l.split()[1] for l in open("/proc/self/status") if l.startswith(("CapPrm:", "CapEff:"))]
    return "%s %d caps %s own %d" % ("child" if c == 0 else "parent", os.getpid(), "/".join(caps),
                                     os.stat("/proc/self").st_uid == os.getuid())
print(me(), flush=True)
while not os.path.exists(go):
    time.sleep(0.02)
print(me(), flush=True)
if c:
    os.waitpid(c, 0)
PYEOF
# tree_start RUNNER...: the tree above, its root in $pid, its child in $cpid
tree_start() {
    rm -f "$T/go" "$T/out"
    bg "$@" "$PY" "$T/tree.py" "$T/go" > "$T/out" 2> "$T/run.err"
    pid=$!
    wait_lines "$T/out" 2
    cpid=$(sed -n 's/^child \([0-9]*\) .*/\1/p' "$T/out")
    grep -qx "parent $pid caps 0000000000000000/0000000000000000 own 1" "$T/out" && [ -n "$cpid" ] ||
        fail "unexpected start of the tree: $(cat "$T/out") (pid $pid)"
}
# tree_back NAME CR_RESTART_ARGS...: restart $T/NAME.ctx, let it go on; its processes
# must say what they said before the checkpoint (same pids, no capability, dumpable)
tree_back() {
    local name=$1; shift
    "$CR_RESTART" "$@" "$T/$name.ctx" >> "$T/out" 2> "$T/$name.restart.err" &
    local r=$!
    track $r
    # in place, as the whole system sees them (in a pid namespace of their own they
    # would print the same numbers): one NSpid level, the program's name
    local i=0 p
    for p in $pid $cpid; do
        until [ "$(awk '/^NSpid:/ {print $2 "." NF}' /proc/$p/status 2>/dev/null)" = "$p.2" ] &&
              [ "$(cat /proc/$p/comm 2>/dev/null)" = "$(basename "$PY")" ]; do
            i=$((i + 1)); [ $i -le 2400 ] || fail "process $p of the tree ($name) did not come back in place: $(cat /proc/$p/status 2>&1 | grep -E '^(Name|NSpid)') $(cat "$T/$name.restart.err")"
            kill -0 $r 2>/dev/null || fail "cr_restart ended before the tree ($name) came back: $(cat "$T/$name.restart.err")"
            sleep 0.05
        done
    done
    touch "$T/go"
    wait_lines "$T/out" 4 180
    local rc=0; wait $r || rc=$?
    [ $rc = 0 ] || fail "cr_restart $* $name.ctx exited $rc: $(cat "$T/$name.restart.err")"
    [ "$(sed -n 1,2p "$T/out" | sort)" = "$(sed -n 3,4p "$T/out" | sort)" ] ||
        fail "the tree ($name) did not come back with its old pids $pid and $cpid, without capabilities: $(cat "$T/out") $(cat "$T/$name.restart.err")"
    grep -q 'namespace' "$T/$name.restart.err" && fail "cr_restart used a namespace: $(cat "$T/$name.restart.err")"
    return 0
}
tree_start "$CR_RUN"
wait_runtime $pid
within 120 "$CR_CHECKPOINT" --kill -f "$T/tree.ctx" $pid || fail "checkpoint --kill of the tree failed"
wait_gone $pid; wait_gone $cpid
tree_back tree --restore-pid
# --restore-pid while a pid of the tree is taken: EBUSY naming it, nothing started
tree_start "$CR_RUN"
wait_runtime $pid
within 120 "$CR_CHECKPOINT" -f "$T/tree2.ctx" $pid || fail "checkpoint (going on) of the tree failed"
expect_refusal 16 "pid $pid .*in use; nothing was started" "$CR_RESTART" --restore-pid "$T/tree2.ctx"
[ "$(wc -l < "$T/out")" = 2 ] || fail "a refused restart started something: $(cat "$T/out")"
kill -9 $cpid $pid; wait_gone $pid; wait_gone $cpid
tree_back tree2 --restore-pid
# a tree never under cr_run
tree_start env
within 300 "$CR_CHECKPOINT" --backend=kmod --kill -f "$T/treep.ctx" $pid || fail "checkpoint --backend=kmod --kill of the tree failed"
wait_gone $pid; wait_gone $cpid
tree_back treep --restore-pid

# a file others may write: the module refuses with its reason
start
within 120 "$CR_CHECKPOINT" --kill -f "$T/c.ctx" $pid || fail "checkpoint --kill failed"
wait_gone $pid
chmod o+w "$T/c.ctx"
expect_refusal 1 "--restore-pid: the crctl module refused the restore grant: image fd [0-9]+ is writable by group or others" \
    "$CR_RESTART" --restore-pid "$T/c.ctx"
[ "$(wc -l < "$T/out")" = 1 ] || fail "a refused restart started something: $(cat "$T/out")"
restarted c
[ $rrc = 0 ] || fail "cr_restart exited $rrc: $(cat "$T/c.restart.err")"
grep -q 'writable by group or others.*new pid' "$T/c.restart.err" ||
    fail "the default restart did not say why the pid is new: $(cat "$T/c.restart.err")"
[ "$rreal" != "$pid" ] || fail "a refused grant still gave the old pid"
[ "$rpid" = "$pid" ] || fail "the new pid's program does not see its old one (pid map): $(cat "$T/out")"
pass
