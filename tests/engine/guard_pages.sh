# A process whose memory holds a guard region (MADV_GUARD_INSTALL) is checkpointed
# with and without copy-on-write without harm (reading a guard page would kill the
# snapshot writer, or the process itself): it runs on to the output of an
# uninterrupted run, the file names the region's guard pages, and a restart from it
# ends with that same output.  (conformance/guard_region checks the restored guards.)
. "$top_srcdir/tests/engine/lib.sh"
cd "$T"
rc=0; within 60 "$PROGS/guard" 40 > ref || rc=$?
[ $rc = 77 ] && skip "$(cat ref): this kernel has no guard regions to test"
[ $rc = 0 ] || fail "the reference run failed: $(cat ref)"
bg "$CR_RUN" "$PROGS/guard" 40 > out 2> run.err
pid=$!
wait_runtime $pid
wait_lines out 3
for mode in cow --no-cow; do
    opt=; [ $mode = cow ] || opt=$mode
    within 30 "$CR_CHECKPOINT" $opt -f "g.$mode.ctx" $pid > ckpt.err 2>&1 ||
        fail "the checkpoint ($mode) failed: $(cat ckpt.err)"
    kill -0 $pid 2>/dev/null || fail "the checkpoint ($mode) killed the process: $(cat run.err)"
    "$CR_INFO" "g.$mode.ctx" | grep -q ", 2 guard pages" ||
        fail "cr_info names no region with its 2 guard pages ($mode)"
done
wait_gone $pid 60
same ref out
# the restarted copy writes the rest of the output again, from where it was
pos=$(fd_pos g.--no-cow.ctx 1)
[ -n "$pos" ] && [ "$pos" -gt 0 ] || fail "no offset saved for the output"
truncate -s "$pos" out
rc=0; within 60 "$CR_RESTART" g.--no-cow.ctx > restart.out 2> restart.err || rc=$?
[ $rc = 0 ] || fail "the restart failed ($rc): $(cat restart.err)"
same ref out
pass
