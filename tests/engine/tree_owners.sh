# A normal user's tree restarted by default sees the system as an uninterrupted run
# does: `tar cf - /usr/share/doc | gzip | sha256sum`, checkpointed mid-run with
# --tree --kill, restarted, gives the uninterrupted run's hash.  Before, the tree came
# back in a user namespace where root's files show as nobody's, and tar recorded that
# owner.  It now comes back with new pids in place, each program still seeing the old
# ones (libcr/pid_map.c): bash waits for its pipeline by the pids it knows, and
# $BASHPID (getpid) equals $$ again.
. "$top_srcdir/tests/engine/lib.sh"
[ "$(id -u)" != 0 ] || skip "as a normal user (root's restart needs neither)"
SRC=/usr/share/doc
[ -d "$SRC" ] && [ "$(find "$SRC" -maxdepth 2 ! -user "$(id -u)" | head -1)" ] || skip "no $SRC of other users"
command -v tar > /dev/null && command -v gzip > /dev/null || skip "no tar or gzip"
cd "$T"
script='echo "pid $$"; tar cf - "$0" 2> /dev/null | gzip -6 | sha256sum; echo "after $$ $BASHPID"'
within 300 bash -c "$script" "$SRC" > ref || fail "the uninterrupted run failed"
grep -q "^after \([0-9]*\) \1\$" ref || fail "the uninterrupted run: $(cat ref)"

bg "$CR_RUN" bash -c "$script" "$SRC" > out 2> run.err
P=$!
wait_runtime $P
# mid-run: tar has read a part of the files (and gzip is at work on it)
tar_pid=
i=0
until [ -n "$tar_pid" ] && [ "$(awk '/^rchar/ {print $2}' /proc/$tar_pid/io 2>/dev/null || echo 0)" -gt 4000000 ]; do
    i=$((i + 1)); [ $i -le 2400 ] || fail "tar did not read 4 MB within 120 s"
    kill -0 $P 2> /dev/null || fail "the pipeline ended before its checkpoint: $(cat out)"
    [ -n "$tar_pid" ] || tar_pid=$(pgrep -P $P -x tar | head -1)
    sleep 0.05
done
within 120 "$CR_CHECKPOINT" --tree --kill -f "$T/t.ctx" $P 2> ckpt.err || fail "checkpoint: $(cat ckpt.err)"
wait $P
[ "$(wc -l < out)" = 1 ] || fail "the pipeline was not checkpointed mid-run: $(cat out)"
"$CR_INFO" "$T/t.ctx" | grep -q "^scope:    tree, [4-9] processes" || fail "not the pipeline's tree: $("$CR_INFO" "$T/t.ctx" | grep ^scope)"
within 300 "$CR_RESTART" --kmsg-warning "$T/t.ctx" >> out 2> restart.err || fail "cr_restart ended $?: $(cat restart.err)"
! grep -q "user namespace" restart.err || fail "restarted in a user namespace: $(cat restart.err)"
# the same hash, and the shell's pid as it knew it
[ "$(sed -n 2p out)" = "$(sed -n 2p ref)" ] || fail "the hash differs from the uninterrupted run's: $(sed -n 2p out), not $(sed -n 2p ref)"
x=$(sed -n 1p out | cut -d' ' -f2)
[ "$(sed -n 3p out)" = "after $x $x" ] || fail "the restored shell's pids: '$(sed -n 3p out)', its \$\$ was $x"
[ "$(wc -l < out)" = 3 ] || fail "unexpected output: $(cat out)"
pass
