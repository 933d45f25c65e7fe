# 30 seconds of repeated checkpoints against four threads looping over critical
# sections (one with cr_tryenter_cs, all nesting) and callbacks in both contexts:
# no checkpoint ever catches a thread inside a section, none fails, and a restart
# from one of them runs to the end just as well.
. "$top_srcdir/tests/engine/lib.sh"
bg "$PROGS/cs_stress" 30 > "$T/out" 2> "$T/err"
pid=$!
wait_runtime $pid
wait_lines "$T/out" 1
n=0
end=$(( $(date +%s) + 28 ))
while [ "$(date +%s)" -lt $end ] && kill -0 $pid 2>/dev/null; do
    within 30 "$CR_CHECKPOINT" -t 20 -f "$T/cs.ctx" $pid 2> "$T/ckpt.err" || { cat "$T/ckpt.err" >&2; fail "checkpoint $n failed"; }
    n=$((n + 1))
    [ $n = 5 ] && cp "$T/cs.ctx" "$T/keep.ctx"
done
rc=0; wait $pid || rc=$?
cat "$T/out" >&2
[ $rc = 0 ] || fail "cs_stress exited $rc"
[ $n -ge 20 ] || fail "only $n checkpoints in 28 s"
grep -q "checkpoints $n restarts 0 violations 0 counters equal" "$T/out" || fail "the callbacks did not see $n clean checkpoints"
# the restarted copy keeps going until its own end (its clock already ran out)
rc=0; within 60 "$CR_RESTART" "$T/keep.ctx" 2> "$T/r.err" || rc=$?
[ $rc = 0 ] || fail "the restarted copy exited $rc"
grep -q "restarts 1 violations 0 counters equal" "$T/out" || fail "the restarted copy: $(tail -n 1 "$T/out")"
pass
