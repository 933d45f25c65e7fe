# A checkpoint of a process whose memory holds a guard region (MADV_GUARD_INSTALL)
# never harms it: it is refused with a message that names the region, with and
# without copy-on-write (reading a guard page killed the snapshot writer, and with
# --no-cow the process itself), and the process runs on to the output of an
# uninterrupted run.
. "$top_srcdir/tests/engine/lib.sh"
cd "$T"
rc=0; within 60 "$PROGS/guard" 40 > ref || rc=$?
[ $rc = 77 ] && skip "$(cat ref): this kernel has no guard regions to test"
[ $rc = 0 ] || fail "the reference run failed: $(cat ref)"
bg "$CR_RUN" "$PROGS/guard" 40 > out 2> run.err
pid=$!
wait_runtime $pid
wait_lines out 3
for mode in "" --no-cow; do
    expect_refusal 95 "is a guard region \(MADV_GUARD_INSTALL\).*the process keeps running" \
        "$CR_CHECKPOINT" $mode -f "g.ctx" $pid
    [ ! -e g.ctx ] || fail "a refused checkpoint left a file"
    kill -0 $pid 2>/dev/null || fail "the refused checkpoint ($mode) killed the process: $(cat run.err)"
done
wait_gone $pid 60
same ref out
pass
