# POSIX timers (timer_create) come back with their ids, clocks, signals, target
# thread and the time left: a program waiting for their ticks goes on after a restart.
. "$top_srcdir/tests/engine/lib.sh"
within 60 "$PROGS/ptimers" 100 > "$T/ref" || fail "the reference run failed"
bg "$CR_RUN" "$PROGS/ptimers" 100 > "$T/out" 2> "$T/run.err"
pid=$!
wait_runtime $pid
wait_lines "$T/out" 3
within 30 "$CR_CHECKPOINT" --kill -f "$T/t.ctx" $pid || fail "checkpoint failed"
wait_gone $pid
truncate -s "$(fd_pos "$T/t.ctx" 1)" "$T/out"
rc=0; within 60 "$CR_RESTART" "$T/t.ctx" 2> "$T/restart.err" || rc=$?
[ $rc = 0 ] || fail "the restarted program exited $rc (124: its timers did not tick): $(tail -n 2 "$T/out")"
! grep -q "slurm-cr: POSIX timer" "$T/restart.err" || fail "$(cat "$T/restart.err")"
same "$T/ref" "$T/out"
pass
