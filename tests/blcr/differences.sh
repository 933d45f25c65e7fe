# Where slurm-cr keeps apart from BLCR on purpose (issue 11), as cr_run(1) and
# cr_restart(1) say under COMPATIBILITY, seen from a BLCR-style program
# (tests/blcr/differences.c, built against the installed headers):
# - the program's own handler for CR_SIGNUM never runs for a checkpoint (BLCR
#   reserved the signal; here the runtime takes another one), and runs when the
#   signal is sent to it;
# - a checkpoint does not end a sigsuspend() (BLCR's signal did: EINTR);
# - --early-stop (cr_checkpoint and cr_restart) stops the process before its
#   callbacks run, as BLCR's did; the callback runs once it is continued;
# - a process restarted alone gets a new pid (BLCR restored it), and --restore-pid
#   without privilege is refused with EPERM.
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
[ "$(count 'own handler')" = 0 ] || fail "a checkpoint ran the program's own handler of signal $signum"
[ "$(count woken)" = 0 ] || fail "a checkpoint ended the program's sigsuspend()"
kill -"$signum" $P
until_count 'own handler' 1
until_count woken 1

# --early-stop: stopped before its continue callback; the callback once continued
within 60 "$CR_CHECKPOINT" --early-stop -f b.ctx $P || fail "--early-stop failed"
[ "$(state $P)" = T ] || fail "--early-stop left the process $(state $P)"
for i in $(seq 1 20); do
    [ "$(count continue)" = 3 ] || fail "the continue callback ran before the stop"
    sleep 0.05
done
kill -CONT $P
until_count continue 4
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
kill -USR1 "$C"
within 60 tail --pid=$R -f /dev/null
wait $R || fail "cr_restart exited $?: $(cat r.err)"
[ "$(tail -n 1 ev)" = done ] || fail "the restarted program did not end as asked: $(cat ev)"
pass
