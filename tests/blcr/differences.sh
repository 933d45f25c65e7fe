# Where slurm-cr keeps apart from BLCR on purpose (issue 11), as cr_run(1) and
# cr_restart(1) say under COMPATIBILITY, seen from a BLCR-style program
# (tests/blcr/differences.c, built against the installed headers):
# - the program's own handler for CR_SIGNUM never runs for a checkpoint (BLCR
#   reserved the signal; here the runtime takes another one), and runs when the
#   signal is sent to it;
# - none: a checkpoint or a restart ends the sigsuspend() of a thread that called
#   cr_init() with EINTR as BLCR's signal did, and not the pause() of a thread that
#   did not (BLCR signalled only the threads of cr_init());
# - --early-stop (cr_checkpoint and cr_restart) stops the process before its
#   callbacks run, as BLCR's did; the callback runs once it is continued;
# - a process restarted alone without privilege gets a new pid (BLCR restored it;
#   the program sees its old one through the runtime, libcr/pid_map.c),
#   --restore-pid is refused with EPERM, and --pid-namespace gives it its old pid in
#   a pid namespace of its own, where a BLCR-style script still signals it through
#   cr_restart's pid (tests/root/restore_pid.sh: root gets the old pid by default).
# - a process stopped (SIGSTOP) is saved as BLCR saved it, and comes back stopped, but
#   by SIGSTOP whatever stopped it (tests/engine/job_stopped.sh, cr_checkpoint(1)).
. "$top_srcdir/tests/engine/lib.sh"
. "$top_srcdir/tests/blcr/lib.sh"
blcr_cc differences differences.c
cd "$T"
# count WORD: lines of the program's events that are WORD
count() { grep -c "^$1\$" ev; }
# until_count WORD N: until N such lines
until_count() {
    local i=0
    until [ "$(count "$1")" -ge "$2" ]; do i=$((i + 1)); [ $i -le 600 ] || fail "no '$1' number $2: $(cat ev)"; sleep 0.05; done
}
state() { awk '{print $3}' "/proc/$1/stat" 2>/dev/null; }

bg "$T/differences" "$T/ev" 2> run.err
P=$!
wait_runtime $P
wait_lines ev 1
signum=$(sed -n 's/^pid [0-9]* signum \([0-9]*\)$/\1/p' ev)
[ -n "$signum" ] || fail "the program did not start: $(cat ev run.err)"
for i in 1 2 3; do within 60 "$CR_CHECKPOINT" -f a.ctx $P || fail "checkpoint $i failed"; done
until_count continue 3
until_count woken 3 # each checkpoint ended the sigsuspend() once
[ "$(count 'own handler')" = 0 ] || fail "a checkpoint ran the program's own handler of signal $signum"
[ "$(count 'thread woken')" = 0 ] || fail "a checkpoint ended the pause() of a thread without cr_init()"
kill -"$signum" $P
until_count 'own handler' 1
until_count woken 4

# --early-stop: stopped before its continue callback; the callback once continued
within 60 "$CR_CHECKPOINT" --early-stop -f b.ctx $P || fail "--early-stop failed"
[ "$(state $P)" = T ] || fail "--early-stop left the process $(state $P)"
for i in $(seq 1 20); do
    [ "$(count continue)" = 3 ] || fail "the continue callback ran before the stop"
    sleep 0.05
done
kill -CONT $P
until_count continue 4
until_count woken 5
kill -KILL $P
wait_gone $P

# restarted alone: a new pid; --early-stop stops it before its restart callback
expect_refusal 1 "needs root or CAP_CHECKPOINT_RESTORE" "$CR_RESTART" --restore-pid b.ctx
bg "$CR_RESTART" --early-stop b.ctx 2> r.err
R=$!
i=0; until C=$(awk '{print $1}' /proc/$R/task/$R/children 2>/dev/null) && [ -n "$C" ] && [ "$(state "$C")" = T ]; do
    i=$((i + 1)); [ $i -le 600 ] || fail "the restarted process did not stop: $(cat r.err)"; sleep 0.05
done
[ "$C" != "$P" ] || fail "the restarted process has its old pid $P"
[ "$(count restart)" = 0 ] || fail "the restart callback ran before the --early-stop"
kill -CONT "$C"
until_count restart 1
until_count woken 6 # the restarted copy's sigsuspend() ended as well
[ "$(count 'thread woken')" = 0 ] || fail "the pause() of a thread without cr_init() ended: $(cat ev)"
kill -USR1 "$C"
within 60 tail --pid=$R -f /dev/null
wait $R || fail "cr_restart exited $?: $(cat r.err)"
[ "$(tail -n 1 ev)" = done ] || fail "the restarted program did not end as asked: $(cat ev)"

# --pid-namespace: the old pid as the program sees it (NSpid's last), a new one outside
nrestart=$(count restart)
bg "$CR_RESTART" --pid-namespace b.ctx 2> n.err
N=$!
i=0; until I=$(awk '{print $1}' /proc/$N/task/$N/children 2>/dev/null) && [ -n "$I" ] &&
    C=$(awk '{print $1}' /proc/$I/task/$I/children 2>/dev/null) && [ -n "$C" ]; do
    i=$((i + 1)); [ $i -le 600 ] || fail "--pid-namespace brought no process back: $(cat n.err)"; sleep 0.05
done
until_count restart $((nrestart + 1))
[ "$(awk '/^NSpid:/ {print $NF}' /proc/$C/status)" = "$P" ] ||
    fail "with --pid-namespace the process sees pid $(awk '/^NSpid:/ {print $NF}' /proc/$C/status), not its old $P"
[ "$(awk '/^PPid:/ {print $2}' /proc/$C/status)" = "$I" ] || fail "the restored process is not the child of the namespace's init"
kill -USR1 $N # as a BLCR script does: cr_restart ctx & pid=$!; kill -USR1 $pid
within 60 tail --pid=$N -f /dev/null
wait $N || fail "cr_restart --pid-namespace exited $?: $(cat n.err)"
[ "$(tail -n 1 ev)" = done ] || fail "the program restarted in a pid namespace did not end as asked: $(cat ev)"
[ ! -s n.err ] || fail "cr_restart --pid-namespace said: $(cat n.err)"
pass
