# System V shared memory: a segment removed but for its attachments (IPC_RMID) is
# saved and comes back with its data (conformance sysv_shm, sysv_shm_child); one that
# outlives the process, which a restart could not give its id again, or one a process
# left out of the checkpoint has attached too, is refused with a message saying so,
# and the process runs on unharmed.
. "$top_srcdir/tests/engine/lib.sh"
cd "$T"
within 60 "$PROGS/sysvseg" 40 > ref || fail "the reference run failed"
bg "$CR_RUN" "$PROGS/sysvseg" 40 > out 2> run.err
pid=$!
wait_runtime $pid
wait_lines out 3
for mode in "" --no-cow; do
    expect_refusal 95 "System V shared memory segment [0-9]+ \(key 0x0\) is attached at 0x[0-9a-f]+ and outlives the process.*IPC_RMID" \
        "$CR_CHECKPOINT" $mode -f s.ctx $pid
    [ ! -e s.ctx ] || fail "a refused checkpoint left a file"
    kill -0 $pid 2>/dev/null || fail "the refused checkpoint ($mode) killed the process: $(cat run.err)"
done
wait_gone $pid 60
same ref out
bg "$CR_RUN" "$PROGS/sysvseg" 40 rmid > out 2> run.err
pid=$!
wait_runtime $pid
wait_lines out 3
within 30 "$CR_CHECKPOINT" --kill -f r.ctx $pid 2> ckpt.err || fail "checkpoint failed: $(cat ckpt.err)"
wait_gone $pid
"$CR_INFO" r.ctx | grep -q "shared-anon .*/SYSV" || fail "cr_info shows no System V segment"
pos=$(fd_pos r.ctx 1)
truncate -s "$pos" out
rc=0; within 60 "$CR_RESTART" r.ctx > restart.out 2> restart.err || rc=$?
[ $rc = 0 ] || fail "the restart failed ($rc): $(cat restart.err)"
same ref out
# shared with a child: only the two together
bg "$CR_RUN" "$top_builddir/tests/conformance/sysv_shm_child" < /dev/null > out 2> run.err
pid=$!
wait_runtime $pid
wait_lines out 1
expect_refusal 95 "segment [0-9]+ at 0x[0-9a-f]+ is attached by 1 other process\(es\) too.*as a tree \(without --pid\)" \
    "$CR_CHECKPOINT" --pid -f p.ctx $pid
kill -USR2 $pid
wait_gone $pid 30
[ "$(tail -n 1 out)" = PASS ] || fail "the process with a refused checkpoint says: $(cat out)"
pass
