# A process stopped by job control and checkpointed alone, as BLCR saved it: it stays
# stopped and runs nothing meanwhile, its parent (here a Python "shell") gets no
# SIGCHLD and no new wait report, and a SIGCONT lets it go on to the end as before;
# restarted, it comes back stopped with cr_restart stopped too (the job stopped for
# whoever started cr_restart), and a SIGCONT to cr_restart lets both go on.
. "$top_srcdir/tests/engine/lib.sh"
PY=${PYTHON3:-python3}
cat > "$T/prog.py" <<'PYEOF'
import sys, time
with open(sys.argv[1], 'a', buffering=1) as f:
    f.write('ready\n')
    for i in range(60):
        f.write('tick %d\n' % i)
        time.sleep(0.05)
    f.write('done\n')
PYEOF
cat > "$T/parent.py" <<'PYEOF'
import os, signal, sys, time
cr_run, py, prog, T = sys.argv[1:5]
chld = []
signal.signal(signal.SIGCHLD, lambda s, f: chld.append(s))
pid = os.fork()
if pid == 0:
    os.execv(cr_run, [cr_run, py, prog, T + '/ticks'])
def lines():
    try:
        return open(T + '/ticks').read().split('\n')[:-1]
    except OSError:
        return []
end = time.time() + 60
while 'ready' not in lines() and time.time() < end:
    time.sleep(0.02)
time.sleep(0.2) # its runtime up, some ticks written
os.kill(pid, signal.SIGSTOP)
w, st = os.waitpid(pid, os.WUNTRACED)
assert os.WIFSTOPPED(st) and os.WSTOPSIG(st) == signal.SIGSTOP, st
del chld[:]
n = len(lines())
open(T + '/stopped', 'w').write('%d\n' % pid)
while not os.path.exists(T + '/checked') and time.time() < end:
    time.sleep(0.02)
def say(msg):
    print(msg, flush=True)
if chld:
    say('FAIL: SIGCHLD came during the checkpoint')
elif os.waitpid(pid, os.WUNTRACED | os.WCONTINUED | os.WNOHANG) != (0, 0):
    say('FAIL: a new wait report came during the checkpoint')
elif len(lines()) != n:
    say('FAIL: it ran while stopped: %d lines, %d at the stop' % (len(lines()), n))
elif open('/proc/%d/stat' % pid).read().rsplit(')', 1)[1].split()[0] != 'T':
    say('FAIL: not stopped after the checkpoint')
else:
    os.kill(pid, signal.SIGCONT)
    w, st = os.waitpid(pid, os.WCONTINUED)
    if not os.WIFCONTINUED(st):
        say('FAIL: no continued report: %x' % st)
    else:
        w, st = os.waitpid(pid, 0)
        say('ok' if os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0 and lines()[-1] == 'done'
            else 'FAIL: ended %x, last line %r' % (st, lines()[-1:]))
PYEOF
bg "$PY" "$T/parent.py" "$CR_RUN" "$PY" "$T/prog.py" "$T" > "$T/parent.out"
parent=$!
wait_lines "$T/stopped" 1
P=$(cat "$T/stopped")
within 60 "$CR_CHECKPOINT" -f "$T/s.ctx" "$P" 2> "$T/ckpt.err" || fail "checkpoint of the stopped process: $(cat "$T/ckpt.err")"
"$CR_INFO" "$T/s.ctx" | grep -q "stopped at the checkpoint" || fail "cr_info does not say it was stopped"
touch "$T/checked"
wait_lines "$T/parent.out" 1
[ "$(cat "$T/parent.out")" = ok ] || fail "the parent saw: $(cat "$T/parent.out")"
wait $parent

# restarted: stopped, and cr_restart too; nothing runs until cr_restart is continued
before=$(grep -c '^done$' "$T/ticks")
bg "$CR_RESTART" "$T/s.ctx"
R=$!
state() { awk '{print $3}' "/proc/$1/stat" 2>/dev/null; }
i=0; until [ "$(state $R)" = T ]; do i=$((i+1)); [ $i -le 600 ] || fail "cr_restart did not stop with the restored process ($(state $R))"; sleep 0.05; done
C=$(cat /proc/$R/task/$R/children | awk '{print $1}')
[ -n "$C" ] && [ "$(state $C)" = T ] || fail "the restored process is not stopped ($(state "$C"))"
lines=$(wc -l < "$T/ticks")
sleep 0.3
[ "$(wc -l < "$T/ticks")" = "$lines" ] || fail "the restored process ran while stopped"
kill -CONT $R
within 60 tail --pid=$C -f /dev/null || fail "the restored process did not end once continued"
wait $R || fail "cr_restart ended $?"
[ "$(grep -c '^done$' "$T/ticks")" = $((before + 1)) ] || fail "the restored process did not finish its ticks"

# --kill: saved while stopped, then ended; restarted it comes back stopped as well
rm -f "$T/ticks"
bg "$CR_RUN" "$PY" "$T/prog.py" "$T/ticks"
K=$!
wait_runtime $K
wait_lines "$T/ticks" 3
kill -STOP $K
i=0; until [ "$(state $K)" = T ]; do i=$((i+1)); [ $i -le 600 ] || fail "the process did not stop"; sleep 0.05; done
within 60 "$CR_CHECKPOINT" --kill -f "$T/k.ctx" $K 2> "$T/kill.err" || fail "--kill of a stopped process: $(cat "$T/kill.err")"
wait $K
[ $? = 137 ] || fail "--kill did not end the stopped process with SIGKILL"
at_kill=$(wc -l < "$T/ticks")
bg "$CR_RESTART" "$T/k.ctx"
R=$!
i=0; until [ "$(state $R)" = T ]; do i=$((i+1)); [ $i -le 600 ] || fail "cr_restart did not stop with the process restored after --kill"; sleep 0.05; done
[ "$(wc -l < "$T/ticks")" = "$at_kill" ] || fail "the process restored after --kill ran while stopped"
kill -CONT $R
wait $R || fail "cr_restart after --kill ended $?"
[ "$(tail -n 1 "$T/ticks")" = done ] || fail "the process restored after --kill did not finish"
pass
