# Named FIFOs: one the program writes and reads itself (the data waiting in it is
# saved), one it only reads and nobody writes; both are opened again by path at
# restart, which fails clearly once a FIFO is gone.
. "$top_srcdir/tests/engine/lib.sh"
PY=${PYTHON3:-python3}
mkfifo "$T/loop" "$T/feed"
cat > "$T/fifo.py" <<'PYEOF'
import os, sys, time
d = sys.argv[1]
# both ends of "loop" in this process; "feed" read-only, without a writer
r = os.open(d + "/loop", os.O_RDONLY | os.O_NONBLOCK)
w = os.open(d + "/loop", os.O_WRONLY)
f = os.open(d + "/feed", os.O_RDONLY | os.O_NONBLOCK)
got = b""
for step in range(40):
    os.write(w, b"chunk %02d\n" % step)
    if step % 2:
        got += os.read(r, 9)          # reads half as much as written: data waits
    try:
        extra = os.read(f, 100)
    except BlockingIOError:
        extra = b""
    print(step, len(got), got[-9:].decode().strip(), extra.decode().strip(), flush=True)
    time.sleep(0.05)
PYEOF
within 60 "$PY" "$T/fifo.py" "$T" > "$T/ref" || fail "reference run failed"
bg "$CR_RUN" "$PY" "$T/fifo.py" "$T" > "$T/out" 2> "$T/run.err"
pid=$!
wait_runtime $pid
wait_lines "$T/out" 12
within 30 "$CR_CHECKPOINT" --kill -f "$T/f.ctx" $pid || fail "checkpoint failed"
wait_gone $pid
"$CR_INFO" "$T/f.ctx" | grep -Eq "fifo .*$T/loop, [1-9][0-9]* bytes buffered" || fail "the data waiting in the FIFO is not saved"
truncate -s "$(fd_pos "$T/f.ctx" 1)" "$T/out"
within 60 "$CR_RESTART" "$T/f.ctx" 2> "$T/restart.err" || fail "restart failed"
same "$T/ref" "$T/out"
rm "$T/loop"
expect_refusal 2 "is gone" "$CR_RESTART" "$T/f.ctx"
pass
