# A program reading one file and writing two (one at its offset, one in append mode):
# after checkpoint, kill and restart, every file matches an uninterrupted run.
. "$top_srcdir/tests/engine/lib.sh"
seq 1 100 | sed 's/^/input line /' > "$T/input"
mkdir "$T/ref" "$T/run"
(cd "$T/ref" && within 60 "$PROGS/filewriter" ../input out app 40 20 > stdout) || fail "reference run failed"
cd "$T/run"
echo "existing line" > app; echo "existing line" > "$T/ref/app.pre"
cat "$T/ref/app" >> "$T/ref/app.pre"
bg "$CR_RUN" "$PROGS/filewriter" ../input out app 40 20 > stdout
pid=$!
wait_runtime $pid
wait_lines out 15
within 60 "$CR_CHECKPOINT" --kill -f "$T/f.ctx" $pid || fail "checkpoint failed"
wait_gone $pid
cd /   # the restart must go back to the saved working directory by itself
within 60 "$CR_RESTART" "$T/f.ctx" || fail "restart failed"
same "$T/ref/out" "$T/run/out"
same "$T/ref/app.pre" "$T/run/app"
same "$T/ref/stdout" "$T/run/stdout"
pass
