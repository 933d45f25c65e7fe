# A process that cannot stop within -t (here: stopped by SIGSTOP, so its runtime
# cannot run) is refused with a clear message, and is not harmed: continued, it
# finishes with the output of an uninterrupted run.
. "$top_srcdir/tests/engine/lib.sh"
within 60 "$PROGS/heapsum" 8 30 0 > "$T/ref"
bg "$CR_RUN" "$PROGS/heapsum" 8 30 100 > "$T/out" 2> "$T/run.err"
pid=$!
wait_runtime $pid
wait_lines "$T/out" 2
kill -STOP $pid
expect_refusal 16 "process $pid is stopped.*kill -CONT" "$CR_CHECKPOINT" -t 1 -f "$T/x.ctx" $pid
[ ! -e "$T/x.ctx" ] && [ ! -e "$T/x.ctx.tmp" ] || fail "a file was left"
kill -CONT $pid
within 30 "$CR_CHECKPOINT" -t 5 -f "$T/y.ctx" $pid || fail "checkpoint after SIGCONT failed"
wait_gone $pid 60
same "$T/ref" "$T/out"

# a thread that never takes the checkpoint signal: -t gives up, the process goes on
within 60 "$PROGS/blocker" 30 > "$T/ref2"
bg "$CR_RUN" "$PROGS/blocker" 30 > "$T/out2" 2> "$T/run2.err"
pid=$!
wait_runtime $pid
wait_lines "$T/out2" 2
expect_refusal 110 "thread [0-9]+ did not stop within 1000 ms .*keeps running" \
    "$CR_CHECKPOINT" -t 1 -f "$T/z.ctx" $pid
[ ! -e "$T/z.ctx" ] && [ ! -e "$T/z.ctx.tmp" ] || fail "a file was left"
wait_gone $pid 60
same "$T/ref2" "$T/out2"
pass
