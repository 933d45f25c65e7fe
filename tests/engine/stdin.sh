# A program blocked in read() on stdin (a FIFO) is checkpointed and killed; restarted,
# it reads the rest of its input from cr_restart's stdin (a pipe).
. "$top_srcdir/tests/engine/lib.sh"
printf 'alpha\nbeta\ngamma\ndelta\nepsilon\n' | within 30 "$PROGS/stdin_reader" > "$T/ref"
mkfifo "$T/in"
"$CR_RUN" "$PROGS/stdin_reader" < "$T/in" > "$T/out" 2> "$T/run.err" &
pid=$!
track $pid
exec 3> "$T/in"
printf 'alpha\nbeta\n' >&3
wait_runtime $pid
wait_lines "$T/out" 2
sleep 0.2   # let it block in read() again
within 30 "$CR_CHECKPOINT" --kill -f "$T/s.ctx" $pid || fail "checkpoint failed"
exec 3>&-
wait_gone $pid
printf 'gamma\ndelta\nepsilon\n' | within 30 "$CR_RESTART" "$T/s.ctx" || fail "restart failed"
same "$T/ref" "$T/out"
pass
