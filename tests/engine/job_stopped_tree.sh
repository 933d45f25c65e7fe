# A stopped job with children (a shell pipeline after Ctrl-Z: `bash -c 'cat | sort'`,
# every process of its group stopped by SIGTSTP) checkpointed with its tree: its
# first process is held through ptrace (its parent, here a Python "shell", sees no
# SIGCHLD and no new wait report), its stopped children stop again after their own
# checkpoints, nothing of the job runs meanwhile, and fg (SIGCONT to the group) lets
# it finish with the output of an uninterrupted run.  Checkpointed with --kill and
# restarted, the tree comes back with every process stopped and cr_restart stopped
# with it; a SIGCONT to cr_restart continues the job to the same output.
. "$top_srcdir/tests/engine/lib.sh"
PY=${PYTHON3:-python3}
command -v bash > /dev/null && command -v sort > /dev/null || skip "no bash or sort"
# ~24 MB of lines in no order: sort reads for a while and holds what it read
awk 'BEGIN { for (i = 0; i < 600000; i++) printf "%08d line %d of the data, to be sorted\n", (i * 7919) % 1000003, i }' > "$T/data"
sort "$T/data" "$T/data" > "$T/expected"

cat > "$T/shell.py" <<'PYEOF'
# a job-control shell: the job in a process group of its own, stopped as a terminal's
# Ctrl-Z stops it, then (asked) continued as fg continues it
import os, signal, sys, time
cr_run, T, mode = sys.argv[1:4]
chld = []
signal.signal(signal.SIGCHLD, lambda s, f: chld.append(s))
script = 'cat "$0" "$0" | sort -S 64M > "$1.out"'
pid = os.fork()
if pid == 0:
    os.setpgid(0, 0)
    os.execv(cr_run, [cr_run, 'bash', '-c', script, T + '/data', T + '/' + mode])
try:
    os.setpgid(pid, pid) # (both sides, as shells do: whichever comes first)
except OSError:
    pass
def say(msg):
    print(msg, flush=True)
def comm(p):
    try:
        return open('/proc/%s/comm' % p).read().strip()
    except OSError:
        return ''
def group():
    out = []
    for p in os.listdir('/proc'):
        try:
            st = open('/proc/%s/stat' % p).read().rsplit(')', 1)[1].split()
        except (OSError, ValueError):
            continue
        if p.isdigit() and int(st[2]) == pid and comm(p) != 'cr-snapshot':
            out.append((int(p), st[0])) # (a runtime's snapshot writer, which no wait()
                                        # of the program sees, is not the job's)
    return out
def sort_reading():
    for p, s in group():
        try:
            if open('/proc/%d/comm' % p).read().strip() == 'sort' and \
               int(open('/proc/%d/io' % p).read().split('rchar: ')[1].split()[0]) > 4 << 20:
                return True
        except (OSError, IndexError, ValueError):
            pass
    return False
end = time.time() + 120
while not sort_reading() and time.time() < end:
    time.sleep(0.02)
os.killpg(pid, signal.SIGTSTP)
w, st = os.waitpid(pid, os.WUNTRACED)
assert os.WIFSTOPPED(st), st
while any(s != 'T' for p, s in group()) and time.time() < end:
    time.sleep(0.02)
members = group()
del chld[:]
open(T + '/stopped.' + mode, 'w').write('%d %d\n' % (pid, len(members)))
while not os.path.exists(T + '/checked.' + mode) and time.time() < end:
    time.sleep(0.02)
if mode == 'kill':
    w, st = os.waitpid(pid, 0)
    say('ok' if os.WIFSIGNALED(st) and os.WTERMSIG(st) == signal.SIGKILL else 'FAIL: ended %x' % st)
    sys.exit(0)
if chld:
    say('FAIL: SIGCHLD came during the checkpoint')
elif os.waitpid(pid, os.WUNTRACED | os.WCONTINUED | os.WNOHANG) != (0, 0):
    say('FAIL: a new wait report came during the checkpoint')
elif sorted(group()) != sorted(members) or any(s != 'T' for p, s in group()):
    say('FAIL: the job is not stopped as it was after the checkpoint: %r, was %r' % (group(), members))
else:
    os.killpg(pid, signal.SIGCONT)
    w, st = os.waitpid(pid, os.WCONTINUED)
    if not os.WIFCONTINUED(st):
        say('FAIL: no continued report: %x' % st)
    else:
        w, st = os.waitpid(pid, 0)
        say('ok' if os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0 else 'FAIL: ended %x' % st)
PYEOF

# checkpointed while stopped, going on: it stays stopped, then finishes as before
bg "$PY" "$T/shell.py" "$CR_RUN" "$T" go > "$T/go.log"
shell=$!
wait_lines "$T/stopped.go" 1 120
read P N < "$T/stopped.go"
[ "$N" -ge 3 ] || fail "the job has $N processes, expected bash, cat and sort"
within 120 "$CR_CHECKPOINT" --tree -f "$T/go.ctx" "$P" 2> "$T/ckpt.err" || fail "checkpoint of the stopped job: $(cat "$T/ckpt.err")"
"$CR_INFO" "$T/go.ctx" | grep -q "stopped at the checkpoint" || fail "cr_info does not say the job's first process was stopped"
touch "$T/checked.go"
wait_lines "$T/go.log" 1 120
[ "$(cat "$T/go.log")" = ok ] || fail "the shell saw: $(cat "$T/go.log")"
wait $shell
same "$T/go.out" "$T/expected"

# --kill: saved while stopped and ended; restarted, every process is stopped and
# cr_restart with them until it is continued
bg "$PY" "$T/shell.py" "$CR_RUN" "$T" kill > "$T/kill.log"
shell=$!
wait_lines "$T/stopped.kill" 1 120
read P N < "$T/stopped.kill"
within 120 "$CR_CHECKPOINT" --tree --kill -f "$T/k.ctx" "$P" 2> "$T/kill.err" || fail "--kill of the stopped job: $(cat "$T/kill.err")"
touch "$T/checked.kill"
wait_lines "$T/kill.log" 1 60
[ "$(cat "$T/kill.log")" = ok ] || fail "the shell saw: $(cat "$T/kill.log")"
wait $shell
bg "$CR_RESTART" "$T/k.ctx" 2> "$T/restart.err"
R=$!
state() { awk '{print $3}' "/proc/$1/stat" 2>/dev/null; }
below() { # the processes below $1, each with its state
    local c
    for c in $(cat /proc/$1/task/*/children 2>/dev/null); do echo "$c $(state $c) $(cat /proc/$c/comm 2>/dev/null)"; below $c; done
}
i=0; until [ "$(state $R)" = T ]; do i=$((i+1)); [ $i -le 1200 ] || fail "cr_restart did not stop with the restored job ($(state $R)): $(cat "$T/restart.err")"; sleep 0.05; done
below $R > "$T/restored.list"
for comm in bash cat sort; do
    grep -q " T $comm\$" "$T/restored.list" || fail "the restored $comm is not stopped: $(cat "$T/restored.list")"
done
size=$(stat -c %s "$T/kill.out" 2>/dev/null || echo none)
sleep 0.3 # (not a synchronisation: nothing may happen meanwhile)
[ "$(stat -c %s "$T/kill.out" 2>/dev/null || echo none)" = "$size" ] || fail "the restored job ran while stopped"
kill -CONT $R
within 120 tail --pid=$R -f /dev/null || fail "the restored job did not end once continued: $(below $R)"
wait $R || fail "cr_restart ended $?: $(cat "$T/restart.err")"
same "$T/kill.out" "$T/expected"
pass
