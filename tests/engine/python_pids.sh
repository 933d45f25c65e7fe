# A Python program that keeps its pid across a checkpoint, restarted alone by a normal
# user: multiprocessing.Process objects made before it (start() and join() check that
# their maker's os.getpid() did not change), and asyncio's running loop (Python
# checks the loop's pid) that then runs a subprocess.  Restarted, saved again and
# restarted from that, its output must be that of an uninterrupted run: without the pid map (libcr/pid_map.c) for a process alone,
# start() fails "can only start a process object created by current process" and
# asyncio finds no running loop.
. "$top_srcdir/tests/engine/lib.sh"
PY=${PYTHON3:-python3}
command -v "$PY" >/dev/null || fail "python3 is not installed (scripts/install-deps installs it)"
cat > "$T/script.py" <<'PYEOF'
import asyncio, multiprocessing, os, signal, sys

def square(x):
    sys.exit(x * x)

async def main():
    loop = asyncio.get_running_loop()
    me, parent = os.getpid(), os.getppid()
    workers = [multiprocessing.Process(target=square, args=(i,)) for i in range(1, 5)]
    go = loop.create_future()
    loop.add_signal_handler(signal.SIGUSR1, lambda: go.done() or go.set_result(None))
    print("ready", flush=True)
    await go
    print("same pid:", os.getpid() == me, "same parent:", os.getppid() == parent,
          "same loop:", asyncio.get_running_loop() is loop, flush=True)
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
        print(w.name, "alive:", w.is_alive(), "exit:", w.exitcode, flush=True)
    child = await asyncio.create_subprocess_exec(
        "sh", "-c", "echo child says $((6 * 7)); exit 3", stdout=asyncio.subprocess.PIPE)
    out, _ = await asyncio.wait_for(child.communicate(), 60)
    print(out.decode().strip(), "exit:", child.returncode, flush=True)
    await asyncio.sleep(0.01)
    print("done", flush=True)

asyncio.run(main())
PYEOF
# the uninterrupted run, under cr_run as the other
bg "$CR_RUN" "$PY" "$T/script.py" > "$T/ref" 2> "$T/ref.err"
pid=$!
wait_runtime $pid
wait_lines "$T/ref" 1
kill -USR1 $pid
wait_gone $pid 60
grep -qx done "$T/ref" || fail "the uninterrupted run did not finish: $(tail -n 3 "$T/ref.err")"
[ "$(grep -c 'exit:' "$T/ref")" = 5 ] || fail "the uninterrupted run printed $(cat "$T/ref")"

bg "$CR_RUN" "$PY" "$T/script.py" > "$T/out" 2> "$T/run.err"
pid=$!
wait_runtime $pid
wait_lines "$T/out" 1
within 60 "$CR_CHECKPOINT" --kill -f "$T/a.ctx" $pid || fail "the checkpoint failed"
wait_gone $pid
# restarted, saved again and restarted from that: the table the first restart wrote
# is saved with it, and each pid keeps its first number (not the first restart's)
bg "$CR_RESTART" "$T/a.ctx" 2> "$T/restart1.err"
r=$!
within 60 "$CR_CHECKPOINT" --kill -f "$T/b.ctx" "$(restored_pid $r)" || fail "the second checkpoint failed"
rc=0; within 60 tail --pid=$r -f /dev/null || rc=$?
[ $rc = 0 ] || fail "the first cr_restart still runs after its process was killed"
bg "$CR_RESTART" "$T/b.ctx" 2> "$T/restart.err"
r=$!
kill -USR1 "$(restored_pid $r)"
rc=0; within 60 tail --pid=$r -f /dev/null || rc=$?
[ $rc = 0 ] || fail "cr_restart still runs 60 s after the signal"
rc=0; wait $r || rc=$?
[ $rc = 0 ] || fail "cr_restart exited $rc: $(tail -n 3 "$T/run.err" "$T/restart.err")"
same "$T/ref" "$T/out"
pass
