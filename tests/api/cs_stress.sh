# 20 checkpoints in a row against four threads looping over critical sections (one
# with cr_tryenter_cs, all nesting) and callbacks in both contexts: no checkpoint ever
# catches a thread inside a section, none fails, and a restart from one of them runs
# to the end just as well.  (The program runs until told to end: SIGUSR1.)
. "$top_srcdir/tests/engine/lib.sh"
bg "$PROGS/cs_stress" 900 > "$T/out" 2> "$T/err"
pid=$!
wait_runtime $pid
wait_lines "$T/out" 1
n=0
while [ $n -lt 20 ]; do
    kill -0 $pid 2>/dev/null || fail "cs_stress ended after $n checkpoints: $(cat "$T/err")"
    within 30 "$CR_CHECKPOINT" -t 20 -f "$T/cs.ctx" $pid 2> "$T/ckpt.err" || { cat "$T/ckpt.err" >&2; fail "checkpoint $n failed"; }
    n=$((n + 1))
    [ $n = 5 ] && cp "$T/cs.ctx" "$T/keep.ctx"
done
kill -USR1 $pid
rc=0; within 60 tail --pid=$pid -f /dev/null || rc=$?
[ $rc = 0 ] || fail "cs_stress did not end within 60 s of SIGUSR1"
rc=0; wait $pid || rc=$?
cat "$T/out" >&2
[ $rc = 0 ] || fail "cs_stress exited $rc"
grep -q "checkpoints $n restarts 0 violations 0 counters equal" "$T/out" || fail "the callbacks did not see $n clean checkpoints"
# the restarted copy keeps going until told to end
bg "$CR_RESTART" "$T/keep.ctx" 2> "$T/r.err"
r=$!
kill -USR1 "$(restored_pid $r)"
rc=0; within 60 tail --pid=$r -f /dev/null || rc=$?
[ $rc = 0 ] || fail "the restarted copy did not end within 60 s of SIGUSR1"
rc=0; wait $r || rc=$?
[ $rc = 0 ] || fail "the restarted copy exited $rc: $(cat "$T/r.err")"
grep -q "restarts 1 violations 0 counters equal" "$T/out" || fail "the restarted copy: $(tail -n 1 "$T/out")"
pass
