# A Python 3 script (hashlib, dicts, lists, sleeps) checkpointed twice and restarted
# from each; it ends with exit code 7, which cr_restart must pass on.
. "$top_srcdir/tests/engine/lib.sh"
PY=${PYTHON3:-python3}
command -v "$PY" >/dev/null || fail "python3 is not installed (scripts/install-deps installs it)"
cat > "$T/script.py" <<'PYEOF'
import hashlib, sys, time
h = hashlib.sha256()
rows = {}
for i in range(40):
    rows[i] = [x * i for x in range(3000)]
    h.update(repr(rows[i]).encode())
    print(i, h.hexdigest()[:16], sum(len(r) for r in rows.values()), flush=True)
    time.sleep(0.04)
print("done")
sys.exit(7)
PYEOF
rc=0; within 60 "$PY" "$T/script.py" > "$T/ref" || rc=$?
[ $rc = 7 ] || fail "reference run exited $rc"
bg "$CR_RUN" "$PY" "$T/script.py" > "$T/out" 2> "$T/run.err"
pid=$!
wait_runtime $pid
wait_lines "$T/out" 5
within 60 "$CR_CHECKPOINT" -f "$T/a.ctx" $pid || fail "first checkpoint failed"
wait_lines "$T/out" 15
within 60 "$CR_CHECKPOINT" --term -f "$T/b.ctx" $pid || fail "second checkpoint failed"
wait_gone $pid
for name in a b; do
    truncate -s "$(fd_pos "$T/$name.ctx" 1)" "$T/out"
    rc=0; within 60 "$CR_RESTART" "$T/$name.ctx" 2> "$T/restart.err" || rc=$?
    [ $rc = 7 ] || fail "cr_restart of $name exited $rc, not the script's 7"
    same "$T/ref" "$T/out"
done
pass
