# The ptrace backend (cr_checkpoint --backend=kmod, CR_BACKEND=kmod): programs started
# without cr_run -- a C program, the same linked statically, python3, a multithreaded
# program with a thread stopped in the middle of its computation -- checkpointed from
# outside, killed, restarted by cr_restart: their output matches an uninterrupted run.
# A process that goes on after its checkpoint is unharmed (its threads resume their
# interrupted system calls).  Refusals: another user's process (EPERM), a process
# traced by someone else (EBUSY), a stopped one (EBUSY).  Trees: ptrace_tree.sh.
# A failed checkpoint (ENOSPC, or cr_checkpoint killed while it writes) leaves the
# process running on unharmed; a runtime's process still goes through its runtime.
. "$top_srcdir/tests/engine/lib.sh"
PY=${PYTHON3:-python3}
W=$PROGS/ptrace_work

# threads_outside CTX: how many threads were stopped outside a system call
threads_outside() { "$CR_INFO" "$1" | grep '(ptrace)' | grep -vc 'in system call'; }

# run_case NAME CKPT_LINE -- CMD...: CMD's output (to a file) is checkpointed at line
# CKPT_LINE (once with --run, at the line, then with --kill 20 lines later), restarted
# from each file, and compared with an uninterrupted run.
run_case() {
    local name=$1 at=$2; shift 3
    within 300 "$@" > "$T/$name.ref" 2> "$T/$name.referr" || fail "$name: reference run failed"
    bg "$@" > "$T/$name.out" 2> "$T/$name.err"
    local pid=$!
    wait_lines "$T/$name.out" $at 60
    within 120 "$CR_CHECKPOINT" --backend=kmod -p -f "$T/$name.1.ctx" $pid 2> "$T/$name.ck.err" ||
        { cat "$T/$name.ck.err" >&2; fail "$name: the checkpoint (--run) failed"; }
    kill -0 $pid || fail "$name: the process did not survive its checkpoint"
    wait_lines "$T/$name.out" $((at + 20)) 60
    CR_BACKEND=kmod within 120 "$CR_CHECKPOINT" --kill -p -f "$T/$name.2.ctx" $pid 2> "$T/$name.ck.err" ||
        { cat "$T/$name.ck.err" >&2; fail "$name: the checkpoint (CR_BACKEND=kmod, --kill) failed"; }
    wait_gone $pid
    cp "$T/$name.out" "$T/$name.ran"
    "$CR_INFO" "$T/$name.1.ctx" > "$T/$name.info" || fail "$name: cr_info cannot read the image"
    grep -q '(ptrace)' "$T/$name.info" || fail "$name: cr_info does not show the threads' registers"
    for n in 1 2; do
        truncate -s "$(fd_pos "$T/$name.$n.ctx" 1)" "$T/$name.out"
        within 300 "$CR_RESTART" "$T/$name.$n.ctx" 2> "$T/$name.restart.err" ||
            { cat "$T/$name.restart.err" >&2; fail "$name: restart from checkpoint $n failed"; }
        same "$T/$name.ref" "$T/$name.out"
    done
}

run_case c 50 -- "$W" 300
run_case static 50 -- "$PROGS/ptrace_work_static" 300
file "$PROGS/ptrace_work_static" 2>/dev/null | grep -q 'statically linked' ||
    ldd "$PROGS/ptrace_work_static" 2>&1 | grep -q 'not a dynamic' || fail "ptrace_work_static is not static"
cat > "$T/count.py" <<'PYEOF'
import hashlib, sys, time
h, d = hashlib.sha256(), {}
for i in range(int(sys.argv[1])):
    h.update(str(i).encode())
    d[i % 97] = d.get(i % 97, 0) + i
    print(i, h.hexdigest()[:16], sum(d.values()), flush=True)
    time.sleep(0.01)
print("done", flush=True)
PYEOF
run_case python 50 -- "$PY" "$T/count.py" 300
run_case threads 50 -- "$W" 600 4
grep -c '(ptrace)' "$T/threads.info" | grep -qx 6 || fail "the threaded image does not have its 6 threads"
[ "$(threads_outside "$T/threads.1.ctx")" -ge 1 ] ||
    fail "no thread was stopped outside a system call: the spinner's registers were not tested"

# refusals, each leaving the process as it was
bg "$W" 100000 2 > "$T/r.out" 2> /dev/null
pid=$!
wait_lines "$T/r.out" 5
if [ "$(id -u)" != 0 ]; then
    expect_refusal 1 "process 1 belongs to uid 0" "$CR_CHECKPOINT" --backend=kmod -p -f "$T/x.ctx" 1
fi
tid=$(ls /proc/$pid/task | sort -n | tail -n 1)
[ "$tid" = "$pid" ] || expect_refusal 22 "is a thread of process $pid" "$CR_CHECKPOINT" --backend=kmod -p -f "$T/x.ctx" $tid
expect_refusal 28 "No space left on device" "$CR_CHECKPOINT" --backend=kmod -p -F 3 $pid 3>/dev/full
n=$(wc -l < "$T/r.out"); wait_lines "$T/r.out" $((n + 5)) 30
# restarted, it runs on without the restorer's mapping (rwx, anonymous), which
# cr_restart has it unmap
within 60 "$CR_CHECKPOINT" --backend=kmod --kill -p -f "$T/r.ctx" $pid || fail "checkpoint of the long run failed"
wait_gone $pid
truncate -s "$(fd_pos "$T/r.ctx" 1)" "$T/r.out"
"$CR_RESTART" "$T/r.ctx" 2> "$T/r.restart.err" &
r=$!
track $r
i=0; until c=$(awk '{print $1}' /proc/$r/task/$r/children 2>/dev/null) && [ -n "$c" ]; do
    i=$((i + 1)); [ $i -le 600 ] || fail "cr_restart did not bring the long run back"; sleep 0.05; done
track $c
n=$(wc -l < "$T/r.out"); wait_lines "$T/r.out" $((n + 5)) 30
i=0; while awk '$2 == "rwxp" && NF == 5' /proc/$c/maps | grep -q .; do
    i=$((i + 1)); [ $i -le 600 ] || { cat /proc/$c/maps >&2; fail "the restored process keeps the restorer's mapping"; }
    sleep 0.05
done
grep -q 'TracerPid:.0$' /proc/$c/status || fail "the restored process is left traced"
[ "$(cat /proc/$c/comm)" = ptrace_work ] || fail "the restored process is named $(cat /proc/$c/comm)"
kill $c
wait $r 2>/dev/null
# a process with children (its tree: ptrace_tree.sh), stopped
bg sh -c "sleep 600 & '$W' 100000" > /dev/null 2>&1
tp=$!
i=0; until [ -n "$(cat /proc/$tp/task/$tp/children 2>/dev/null)" ]; do
    i=$((i + 1)); [ $i -le 600 ] || fail "the shell never started its child"; sleep 0.05; done
kids=$(cat /proc/$tp/task/$tp/children)
track $kids
# a stopped one (SIGSTOP): through ptrace it would run again
kill -STOP $tp
i=0; until [ "$(awk '{print $3}' /proc/$tp/stat)" = T ]; do
    i=$((i + 1)); [ $i -le 600 ] || fail "the process did not stop"; sleep 0.05; done
expect_refusal 16 "process $tp is stopped" "$CR_CHECKPOINT" --backend=kmod -p -f "$T/x.ctx" $tp
[ "$(awk '{print $3}' /proc/$tp/stat)" = T ] || fail "the refused checkpoint let the stopped process run"
kill -CONT $tp
kill $tp $kids 2>/dev/null
# a process traced by someone else (a debugger)
bg "$PROGS/tracer" "$W" 100000 > "$T/traced.out" 2> /dev/null
tr=$!
wait_lines "$T/traced.out" 5
traced=$(cat /proc/$tr/task/$tr/children | awk '{print $1}')
expect_refusal 16 "is being traced by process $tr" "$CR_CHECKPOINT" --backend=kmod -p -f "$T/x.ctx" $traced
n=$(wc -l < "$T/traced.out"); wait_lines "$T/traced.out" $((n + 5)) 30
kill $tr $traced 2>/dev/null
[ ! -e "$T/x.ctx" ] || fail "a refused checkpoint left a file"

# cr_checkpoint killed while its helper writes (the threads held in ptrace stops): the
# kernel detaches them and the process runs on, whole
within 300 "$W" 3000 2 64 > "$T/k.ref" 2> /dev/null || fail "reference run (64 MB) failed"
bg "$W" 3000 2 64 > "$T/k.out" 2> /dev/null
pid=$!
wait_lines "$T/k.out" 5 60
killed=0
for try in 1 2 3 4 5; do
    "$CR_CHECKPOINT" --backend=kmod -p -f "$T/k.ctx" $pid 2> /dev/null &
    ck=$!
    i=0 h=
    until h=$(pgrep -P $ck -x cr-ptrace-dump); do
        i=$((i + 1)); kill -0 $ck 2>/dev/null && [ $i -le 3000 ] || break; sleep 0.01
    done
    kill -9 $ck 2>/dev/null && [ -n "$h" ] && killed=$((killed + 1))
    wait $ck 2>/dev/null
    # its helper follows it (PR_SET_PDEATHSIG)
    i=0; while [ -n "$h" ] && [ -e /proc/$h ] && [ "$(awk '{print $3}' /proc/$h/stat 2>/dev/null)" != Z ]; do
        i=$((i + 1)); [ $i -le 3000 ] || fail "the dump's helper stayed after its requester died"; sleep 0.01
    done
    [ -e /proc/$pid/status ] || break # (done already)
    grep -q 'TracerPid:.0$' /proc/$pid/status || fail "the process is still traced after its requester died"
    [ "$(awk '{print $3}' /proc/$pid/stat)" != t ] || fail "the process stays in a ptrace stop"
    # (killed after its rename, it has made a whole file: only a partial one is wrong)
    if [ -e "$T/k.ctx" ]; then
        "$CR_INFO" -q "$T/k.ctx" || fail "a killed checkpoint left a partial file"
        rm -f "$T/k.ctx"
    fi
    ls "$T"/k.ctx.* 2>/dev/null && fail "a killed checkpoint left a temporary file"
done
[ $killed -ge 1 ] || fail "no cr_checkpoint could be killed in the middle of its dump"
wait_gone $pid 300
same "$T/k.ref" "$T/k.out"

# a process with the runtime still goes through it (its callbacks run)
bg "$CR_RUN" "$W" 300 > "$T/rt.out" 2> "$T/rt.err"
pid=$!
wait_runtime $pid
wait_lines "$T/rt.out" 20
within 60 "$CR_CHECKPOINT" --backend=kmod --kill -p -f "$T/rt.ctx" $pid || fail "checkpoint of a runtime's process failed"
wait_gone $pid
"$CR_INFO" "$T/rt.ctx" | grep -q '(ptrace)' && fail "a runtime's process was saved through ptrace"
within 60 "$W" 300 > "$T/rt.ref"
truncate -s "$(fd_pos "$T/rt.ctx" 1)" "$T/rt.out"
within 120 "$CR_RESTART" "$T/rt.ctx" 2> "$T/rt.restart.err" || fail "restart of the runtime's file failed"
same "$T/rt.ref" "$T/rt.out"
pass
