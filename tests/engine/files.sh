# A program reading one file and writing two (one at its offset, one in append mode),
# and one whose stdout and stderr share an offset: after checkpoint, kill and restart,
# every file matches an uninterrupted run.
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
wait_lines out 8
within 60 "$CR_CHECKPOINT" -f "$T/early.ctx" $pid || fail "first checkpoint failed"
wait_lines out 15
within 60 "$CR_CHECKPOINT" --kill -f "$T/f.ctx" $pid || fail "checkpoint failed"
wait_gone $pid
cd /   # the restart must go back to the saved working directory by itself
for name in early f; do
    # the files as they were at that checkpoint: what came after is written again
    for f in out app; do
        truncate -s "$(path_pos "$T/$name.ctx" "$T/run/$f")" "$T/run/$f"
    done
    within 60 "$CR_RESTART" "$T/$name.ctx" || fail "restart from $name failed"
    same "$T/ref/out" "$T/run/out"
    same "$T/ref/app.pre" "$T/run/app"
    same "$T/ref/stdout" "$T/run/stdout"
done

# stdout and stderr sharing one open file (> f 2>&1): one offset before and after
PY=${PYTHON3:-python3}
prog='import os, time
for i in range(40):
    os.write(1 if i % 2 else 2, b"line %d\n" % i)
    time.sleep(0.03)'
within 60 "$PY" -c "$prog" > "$T/both.ref" 2>&1 || fail "reference run failed"
bg "$CR_RUN" "$PY" -c "$prog" > "$T/both" 2>&1
pid=$!
wait_runtime $pid
wait_lines "$T/both" 10
within 30 "$CR_CHECKPOINT" --kill -f "$T/both.ctx" $pid || fail "checkpoint failed"
wait_gone $pid
"$CR_INFO" "$T/both.ctx" | grep -q "^    2    dup .*the same open file as fd 1" || fail "fd 2 is not saved as sharing fd 1's file"
within 60 "$CR_RESTART" "$T/both.ctx" || fail "restart failed"
same "$T/both.ref" "$T/both"
pass
