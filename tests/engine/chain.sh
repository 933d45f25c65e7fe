# Checkpoint, restart, checkpoint the restarted process again...: four generations.
. "$top_srcdir/tests/engine/lib.sh"
prog="$PROGS/heapsum 32 40 100"
within 60 $prog > "$T/ref" || fail "reference run failed"
bg "$CR_RUN" $prog > "$T/out" 2> "$T/run.err"
pid=$!
wait_runtime $pid
wait_lines "$T/out" 3
within 60 "$CR_CHECKPOINT" --kill -f "$T/g1.ctx" $pid || fail "generation 1 checkpoint failed"
wait_gone $pid
lines=3
for g in 2 3 4; do
    bg "$CR_RESTART" "$T/g$((g - 1)).ctx" 2> "$T/restart$g.err"
    r=$!
    child=$(restored_pid $r)
    lines=$((lines + 5))
    wait_lines "$T/out" $lines
    within 60 "$CR_CHECKPOINT" --kill -f "$T/g$g.ctx" "$child" || fail "generation $g checkpoint failed"
    rc=0; wait $r || rc=$?
    [ $rc = 137 ] || fail "cr_restart of generation $((g - 1)) exited $rc, not 137 (SIGKILL, as its process)"
done
within 60 "$CR_RESTART" "$T/g4.ctx" || fail "restart of generation 4 failed"
same "$T/ref" "$T/out"
pass
