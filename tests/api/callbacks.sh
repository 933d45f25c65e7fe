# A program written for BLCR, compiled against our libcr.h and linked with -lcr:
# callbacks in both contexts and their order, hooks, checkpoint and restart info, a
# self-checkpoint that sees "continue" and, restarted, "restarted", and the three
# ways a callback can cancel (TEMP_FAILURE keeps the process, PERM ends it, OMIT
# writes nothing).
. "$top_srcdir/tests/engine/lib.sh"
P=$PROGS/api_blcr
cd "$T"
# self-checkpoint: thread-context callback first (T), signal-context ones in reverse
# order of registration (2 then 1), the thread-context continue branch (c) before the
# other threads resume (C); hooks in the callback threads
within 30 "$P" self "$T/self.ctx" > "$T/self.out" 2> "$T/self.err" || fail "self-checkpoint run failed"
cat > "$T/self.expect" <<'X'
continue
events T21cC
hooks cont-signal 1 cont-thread 1 cont-none 0 rstrt-signal 0 rstrt-thread 0 rstrt-none 0
status 0
X
same "$T/self.expect" "$T/self.out"
# restarted: cr_checkpoint() returns >0 in every callback, cr_get_restart_info()
# names this very file and cr_restart as the requester (r), the poll says CR_ERESTARTED
rm "$T/self.out"   # stdout was a file: the restored process writes it again from its offset
touch "$T/self.out"
within 30 "$CR_RESTART" "$T/self.ctx" 2> "$T/restart.err" || fail "restart failed"
cat > "$T/restart.expect" <<'X'
restarted
events T21rR
hooks cont-signal 0 cont-thread 0 cont-none 0 rstrt-signal 1 rstrt-thread 1 rstrt-none 0
status 0
X
tail -n 4 "$T/self.out" > "$T/restart.out"
same "$T/restart.expect" "$T/restart.out"

# TEMP_FAILURE_CODE(911) in a signal-context callback: cancelled, the code comes back
# as errno and as cr_checkpoint()'s result (t); the other callback of that thread is
# skipped; the process goes on
within 30 "$P" temp "$T/temp.ctx" > "$T/temp.out" 2>&1 || fail "temp run failed"
grep -qx "failed: Unknown error 911 (911)" "$T/temp.out" || fail "TEMP_FAILURE_CODE(911) was not reported: $(cat "$T/temp.out")"
grep -qx "events T2xt" "$T/temp.out" || fail "wrong events after TEMP_FAILURE: $(grep events "$T/temp.out")"
# OMIT: the request fails with ESRCH, nothing is written
within 30 "$P" omit "$T/omit.ctx" > "$T/omit.out" 2>&1 || fail "omit run failed"
grep -qx "failed: No such process (3)" "$T/omit.out" || fail "OMIT was not reported as ESRCH: $(cat "$T/omit.out")"
[ ! -s "$T/omit.ctx" ] || fail "OMIT produced a context file"
# PERM_FAILURE: the process is ended
rc=0; within 30 "$P" perm "$T/perm.ctx" > "$T/perm.out" 2>&1 || rc=$?
[ $rc = 137 ] || fail "PERM_FAILURE did not end the process (exit $rc)"

# the same callbacks when cr_checkpoint asks from outside, with a critical section
# held most of the time: the checkpoint waits for it, the callbacks run
bg "$P" wait "$T/x" > "$T/wait.out" 2> "$T/wait.err"
pid=$!
wait_runtime $pid
within 30 "$CR_CHECKPOINT" -f "$T/ext.ctx" $pid || fail "checkpoint from outside failed"
wait_gone $pid
grep -qx "events T21cC" "$T/wait.out" || fail "wrong events for an outside request: $(cat "$T/wait.out")"

# a thread that stays in a critical section: -t gives up with a clear message, the
# process is not harmed and leaves the section when it wants to
bg "$P" hold "$T/x" > "$T/hold.out" 2> "$T/hold.err"
pid=$!
wait_runtime $pid
wait_lines "$T/hold.out" 1
expect_refusal 110 "stayed in a critical section \(cr_enter_cs\) for more than 1000 ms; the process keeps running" \
    "$CR_CHECKPOINT" -t 1 -f "$T/hold.ctx" $pid
[ ! -e "$T/hold.ctx" ] || fail "a file was left after the timeout"
wait_gone $pid
grep -qx left "$T/hold.out" || fail "the process in the critical section was harmed"

# a callback that calls exit() or crashes ends the process: it does not leave the
# other threads frozen, and the request fails cleanly, with ESRCH as BLCR's did
for m in exit crash; do
    bg "$P" $m "$T/x" > "$T/$m.out" 2> "$T/$m.err"
    pid=$!
    wait_runtime $pid
    wait_lines "$T/$m.out" 1
    rc=0; within 30 "$CR_CHECKPOINT" -f "$T/$m.ctx" $pid 2> "$T/$m.ckpt" || rc=$?
    [ $rc = 3 ] || { cat "$T/$m.ckpt" >&2; fail "$m: cr_checkpoint exited $rc, not ESRCH"; }
    grep -q "process $pid ended during the checkpoint" "$T/$m.ckpt" || fail "$m: no clear message: $(cat "$T/$m.ckpt")"
    wait_gone $pid 10
    ! grep -q "still here" "$T/$m.out" || fail "$m: the process went on"
    [ ! -e "$T/$m.ctx" ] || fail "$m: a file was left"
done

# every error path of the API that needs no checkpoint
within 30 "$PROGS/api_errors" > "$T/errors.out" 2>&1 || { cat "$T/errors.out" >&2; fail "API error paths"; }
grep -qx "0 failures" "$T/errors.out" || fail "api_errors: $(cat "$T/errors.out")"
pass
