# A listening socket a process had when it started is its launcher's, not its own:
# slurmstepd leaks one to every task of a node, which then share it.  Two tasks that
# inherited one listener are checkpointed, cr_info names it the launcher's, and both
# are restarted at once (the launcher gone): each gets a socket at that fd number that
# listens nowhere (saved as their own, the second restart found the address taken by
# the first: "cannot bind fd N again").  The originals still have the launcher's.
# A launcher itself under cr_run hands its workers a listener of the checkpoint's own.
. "$top_srcdir/tests/engine/lib.sh"
PY=${PYTHON3:-python3}
TASK='
import os, signal, socket, sys
fd, report = int(sys.argv[1]), sys.argv[2]
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR2])
print("ready", flush=True)
if signal.sigtimedwait([signal.SIGUSR2], 100) is None:
    sys.exit("no SIGUSR2")
s = socket.socket(fileno=os.dup(fd))
with open(report, "a") as r:
    print("fd", fd, "listening", s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN),
          "port", s.getsockname()[1], file=r)
'
# the launcher: a listener left open across the exec of two tasks, as slurmstepd's
LAUNCHER='
import os, socket, sys
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(4); l.set_inheritable(True)
with open(sys.argv[1] + "/port", "w") as p: print(l.getsockname()[1], file=p)
kids = []
for t in "ab":
    pid = os.fork()
    if pid == 0:
        out = os.open(sys.argv[1] + "/" + t + ".out", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(out, 1)
        os.execvp(sys.argv[2], [sys.argv[2], sys.argv[3], "-c", sys.argv[4], str(l.fileno()),
                                sys.argv[1] + "/" + t + ".report"])
    kids.append(pid)
with open(sys.argv[1] + "/pids", "w") as p: print(*kids, file=p)
for k in kids: os.waitpid(k, 0)
'
bg "$PY" -c "$LAUNCHER" "$T" "$CR_RUN" "$PY" "$TASK"
launcher=$!
wait_lines "$T/pids" 1
read -r a b < "$T/pids"
port=$(cat "$T/port")
for t in a b; do wait_lines "$T/$t.out" 1; done
wait_runtime $a
wait_runtime $b
within 60 "$CR_CHECKPOINT" -f "$T/a.ctx" $a || fail "the checkpoint of task a failed"
within 60 "$CR_CHECKPOINT" -f "$T/b.ctx" $b || fail "the checkpoint of task b failed"
for t in a b; do
    "$CR_INFO" "$T/$t.ctx" > "$T/$t.info" || fail "cr_info $t.ctx"
    grep -Eq "^ +[0-9]+ +launcher .*TCP listening on 127.0.0.1:$port, its launcher's \(inherited at its start\): comes back bound nowhere" "$T/$t.info" ||
        fail "task $t's inherited listener is not saved as its launcher's: $(grep -i listen "$T/$t.info")"
done
kill -USR2 $a $b
wait_gone $launcher
for t in a b; do
    grep -Eqx "fd [0-9]+ listening 1 port $port" "$T/$t.report" ||
        fail "task $t lost its launcher's listener after the checkpoint: $(cat "$T/$t.report" 2>/dev/null)"
done

# both at once, the launcher gone
bg "$CR_RESTART" "$T/a.ctx" 2> "$T/ra.err"
ra=$!
bg "$CR_RESTART" "$T/b.ctx" 2> "$T/rb.err"
rb=$!
ta=$(restored_pid $ra)
tb=$(restored_pid $rb)
kill -USR2 $ta $tb
rc=0; wait $ra || rc=$?
[ $rc = 0 ] || fail "task a's restart exited $rc: $(cat "$T/ra.err")"
rc=0; wait $rb || rc=$?
[ $rc = 0 ] || fail "task b's restart exited $rc: $(cat "$T/rb.err")"
for t in a b; do
    [ "$(wc -l < "$T/$t.report")" = 2 ] && tail -n 1 "$T/$t.report" | grep -Eqx "fd [0-9]+ listening 0 port 0" ||
        fail "restarted task $t's fd is not a socket bound nowhere: $(cat "$T/$t.report")"
done
# a launcher under cr_run itself (a program that exec'd its workers with its listener):
# the listener is in the checkpoint with it, the workers' own to listen on again
mkdir -p "$T/own"
bg "$CR_RUN" "$PY" -c "$LAUNCHER" "$T/own" env "$PY" "$TASK"
owner=$!
wait_lines "$T/own/pids" 1
read -r a b < "$T/own/pids"
for t in a b; do wait_lines "$T/own/$t.out" 1; done
wait_runtime $a
within 60 "$CR_CHECKPOINT" -f "$T/own/a.ctx" $a || fail "the checkpoint of a worker of a launcher under cr_run failed"
"$CR_INFO" "$T/own/a.ctx" > "$T/own/a.info" || fail "cr_info own/a.ctx"
grep -Eq "^ +[0-9]+ +listen .*TCP listening on 127.0.0.1:$(cat "$T/own/port")" "$T/own/a.info" ||
    fail "a worker's listener from a launcher under cr_run is not saved as its own: $(grep -i listen "$T/own/a.info")"
kill -USR2 $a $b
wait_gone $owner
pass
