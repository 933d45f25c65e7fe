# A signal handler, an ignored signal, a blocked-signal mask and pending signals (one
# for the thread, one for the process) survive a restart: the program checks them at
# every step and at the end raises both signals.
. "$top_srcdir/tests/engine/lib.sh"
within 30 "$PROGS/sigmask" 40 > "$T/ref" || fail "reference run failed"
grep -q LOST "$T/ref" && fail "the reference run lost its own signal state"
bg "$CR_RUN" "$PROGS/sigmask" 40 > "$T/out" 2> "$T/run.err"
pid=$!
wait_runtime $pid
wait_lines "$T/out" 4
within 30 "$CR_CHECKPOINT" -f "$T/early.ctx" $pid || fail "first checkpoint failed"
wait_lines "$T/out" 10
within 30 "$CR_CHECKPOINT" --kill -f "$T/sig.ctx" $pid || fail "checkpoint failed"
wait_gone $pid
# SIGUSR2 (12) pending for the thread, SIGWINCH (28) for the process
"$CR_INFO" "$T/sig.ctx" | grep -q "signals pending: 0x8000000;" || fail "the process's pending SIGWINCH is not saved"
"$CR_INFO" "$T/sig.ctx" | grep -q "pending 0x800$" || fail "the thread's pending SIGUSR2 is not saved"
for name in early sig; do
    truncate -s "$(fd_pos "$T/$name.ctx" 1)" "$T/out"
    within 30 "$CR_RESTART" "$T/$name.ctx" || fail "restart from $name failed (or SIGUSR2 was no longer blocked)"
    same "$T/ref" "$T/out"
done
pass
