# A process found alone when its tree is looked at may fork before it is frozen
# (issue 15): Python starting a subprocess per step holds the read end of the child's
# output pipe.  cr_checkpoint --tree once wrote such a process alone, its pipe to the
# child then restored as disconnected: the restarted program read an empty answer and
# silently lost a line.  Each of 40 checkpoints must hold the child with the process
# (a process saved alone holds no pipe that leads outside), and a restart from the last gives the uninterrupted
# output.
. "$top_srcdir/tests/engine/lib.sh"
PY=${PYTHON3:-python3}
command -v "$PY" >/dev/null || fail "python3 is not installed (scripts/install-deps installs it)"
cat > "$T/sub.py" <<'PYEOF'
import subprocess, sys
with open(sys.argv[2], "a") as out:
    for i in range(1, int(sys.argv[1]) + 1):
        r = subprocess.run(["sha1sum"], input=b"%d\n" % i, stdout=subprocess.PIPE, check=True)
        out.write(r.stdout.decode()); out.flush()
PYEOF
N=4000
within 300 "$PY" "$T/sub.py" $N "$T/ref" < /dev/null || fail "the reference run failed"
bg "$CR_RUN" "$PY" "$T/sub.py" $N "$T/out" < /dev/null 2> "$T/run.err"
pid=$!
wait_runtime $pid
ok=0
for i in $(seq 1 200); do
    kill -0 $pid 2>/dev/null || fail "the program ended before 40 checkpoints ($ok taken)"
    within 60 "$CR_CHECKPOINT" --tree -f "$T/t.ctx" $pid 2>> "$T/ckpt.err" || continue
    ok=$((ok + 1))
    "$CR_INFO" "$T/t.ctx" > "$T/info" || fail "cr_info cannot read checkpoint $ok"
    # a process saved alone whose read end of a pipe has no writer and nothing in it:
    # its child, alive and not yet answering, was left out (one that ended leaves its
    # answer in the pipe; a child's stdin, closed by Python, is in a file of two)
    if grep -q "^scope: *process," "$T/info" && grep -q "^ *[0-9]* *outside r.*writer is gone, 0 bytes" "$T/info"; then
        cat "$T/info" | head -20 >&2
        fail "checkpoint $ok left the child out: its pipe leads outside"
    fi
    [ $ok -ge 40 ] && break
done
[ $ok -ge 40 ] || fail "only $ok of 200 checkpoints were taken: $(sort "$T/ckpt.err" | uniq -c | head -3)"
within 60 "$CR_CHECKPOINT" --tree --kill -f "$T/t.ctx" $pid || fail "the last checkpoint failed"
wait_gone $pid
within 300 "$CR_RESTART" "$T/t.ctx" < /dev/null || fail "the restart failed"
same "$T/ref" "$T/out"
pass
