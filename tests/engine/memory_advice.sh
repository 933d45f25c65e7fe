# A region the process locked (mlock) is saved with its lock: cr_info shows it, a
# restart whose RLIMIT_MEMLOCK cannot hold it fails saying so (it never runs on
# unlocked), and one that can brings the process back locked.
. "$top_srcdir/tests/engine/lib.sh"
cd "$T"
PROG=$top_builddir/tests/conformance/mlock_region
bg "$CR_RUN" "$PROG" > out 2> run.err
pid=$!
wait_runtime $pid
wait_lines out 1
within 30 "$CR_CHECKPOINT" --kill -f m.ctx $pid || fail "checkpoint failed"
wait_gone $pid
"$CR_INFO" m.ctx | grep -q " advised locked" || fail "cr_info shows no locked region"
expect_refusal 12 "cannot mlock the memory the process had locked \(raise RLIMIT_MEMLOCK" \
    sh -c 'ulimit -l 16 && exec "$0" "$1"' "$CR_RESTART" m.ctx
bg "$CR_RESTART" m.ctx > restart.out 2> restart.err
r=$!
c=$(restored_pid $r)
kill -USR2 "$c"
wait_gone $r 30
[ "$(tail -n 1 out)" = PASS ] || fail "the restarted process says: $(cat out)"
pass
