# cr_restart killed (SIGKILL, which it cannot pass on) takes the process it restarted
# along, as BLCR's cr_restart did by being that process: a process alone, a tree's
# root in place (new pids, its children orphaned as the original's would be), a tree in
# a pid namespace of its own (all of it: the namespace's pid 1 ends).  The program's own
# parent-death setting is untouched (PR_GET_PDEATHSIG says 0 in each of its threads:
# the runtime's thread holds the signal).  SIGTERM is passed on as before.
. "$top_srcdir/tests/engine/lib.sh"
cd "$T"
# gone PID: until PID has ended (or is a zombie), at most 20 s
gone() {
    local i=0
    while kill -0 "$1" 2> /dev/null && [ "$(awk '{print $3}' /proc/$1/stat 2> /dev/null)" != Z ]; do
        i=$((i + 1)); [ $i -le 400 ] || return 1
        sleep 0.05
    done
}
# the program: PR_GET_PDEATHSIG of its main thread and of a thread that lived across
# the checkpoint, once told (SIGUSR1)
cat > prog.py <<'PYEOF'
import ctypes, signal, threading, time
libc = ctypes.CDLL(None)
def pdeathsig(): # PR_GET_PDEATHSIG of the calling thread
    v = ctypes.c_int(-1)
    libc.prctl(2, ctypes.byref(v), 0, 0, 0)
    return v.value
go = threading.Event()
signal.signal(signal.SIGUSR1, lambda *a: go.set())
seen = {}
def worker():
    go.wait(300)
    seen["thread"] = pdeathsig()
w = threading.Thread(target=worker, daemon=True)
w.start()
print("ready", flush=True)
while not go.is_set():
    time.sleep(0.02)
w.join(60)
print("pdeathsig", pdeathsig(), seen.get("thread"), flush=True)
time.sleep(3600)
PYEOF
PY=${PYTHON3:-python3}
command -v "$PY" > /dev/null || fail "python3 is not installed (scripts/install-deps installs it)"

# a process alone
bg "$CR_RUN" "$PY" prog.py > out1 2> run1.err
P=$!
wait_runtime $P
wait_lines out1 1
within 60 "$CR_CHECKPOINT" --kill -f a.ctx $P || fail "checkpoint of the process alone"
wait_gone $P
bg "$CR_RESTART" a.ctx 2> r1.err
R=$!
C=$(restored_pid $R)
kill -USR1 "$C"
wait_lines out1 2
[ "$(sed -n 2p out1)" = "pdeathsig 0 0" ] || fail "the program's parent-death signal after the restart: $(sed -n 2p out1)"
kill -KILL $R
gone "$C" || fail "the process restarted alone ($C) outlived its cr_restart, killed"
wait $R 2> /dev/null

# SIGTERM is passed on (cr_restart then ends as the process did)
bg "$CR_RESTART" a.ctx 2> r2.err
R=$!
C=$(restored_pid $R)
kill -TERM $R
gone "$C" || fail "SIGTERM to cr_restart did not reach the process ($C)"
rc=0; wait $R || rc=$?
[ $rc = $((128 + 15)) ] || fail "cr_restart ended $rc after the SIGTERM, not as its process (143)"

# a tree in place: its root goes, its child lives on as an orphan (as after a SIGKILL
# of the original root)
bg "$CR_RUN" bash -c 'sleep 3600 & echo "child $!"; wait' > out3 2> run3.err
P=$!
wait_runtime $P
wait_lines out3 1
within 60 "$CR_CHECKPOINT" --tree --kill -f t.ctx $P || fail "checkpoint of the tree"
wait_gone $P
bg "$CR_RESTART" t.ctx 2> r3.err
R=$!
C=$(restored_pid $R)
i=0; until K=$(cat /proc/$C/task/$C/children 2> /dev/null) && [ -n "$K" ]; do
    i=$((i + 1)); [ $i -le 400 ] || fail "the restored shell has no child"; sleep 0.05
done
kill -KILL $R
gone "$C" || fail "the tree's root ($C) outlived its cr_restart, killed"
wait $R 2> /dev/null
kill -0 $K 2> /dev/null || fail "the root's child $K ended with it (an orphan, as in an uninterrupted run)"
kill -KILL $K

# a tree in a pid namespace of its own (--pid-namespace for a process alone takes
# that path): all of it
bg "$CR_RESTART" --pid-namespace a.ctx 2> r4.err
R=$!
# (the namespace's pid 1 is not dumpable: pgrep reads its children from their stat)
i=0; until I=$(pgrep -P $R) && [ -n "$I" ] && C=$(pgrep -P "$I") && [ -n "$C" ] &&
           [ "$(cat /proc/$C/comm 2> /dev/null)" = python3 ]; do
    i=$((i + 1)); [ $i -le 400 ] || fail "--pid-namespace: no restored process: $(cat r4.err)"; sleep 0.05
done
kill -KILL $R
gone "$I" || fail "the namespace's pid 1 ($I) outlived its cr_restart, killed"
gone "$C" || fail "the process in the namespace ($C) outlived its cr_restart, killed"
wait $R 2> /dev/null
pass
