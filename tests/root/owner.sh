# What root may do with another user's process: checkpoint it, and restart it, in
# which case the restored process gets its owner's identity back, not root's.
. "$top_srcdir/tests/engine/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root (scripts/test runs the tests/root suite as root)"
U=${TEST_USER:-nobody}
id "$U" >/dev/null 2>&1 || U=nobody
uid=$(id -u "$U")
chmod 755 "$T"
mkdir "$T/u" && chown "$U" "$T/u"
within 60 "$PROGS/heapsum" 8 30 0 > "$T/ref"
cd "$T/u"
setpriv --reuid="$U" --regid="$(id -g "$U")" --clear-groups \
    sh -c "exec '$CR_RUN' '$PROGS/heapsum' 8 30 100 > '$T/u/out' 2> '$T/u/run.err'" &
pid=$!
track $pid
wait_runtime $pid
wait_lines "$T/u/out" 3
within 60 "$CR_CHECKPOINT" --kill -f "$T/u.ctx" $pid || fail "root could not checkpoint a process of $U"
wait_gone $pid
[ "$(stat -c %u:%a "$T/u.ctx")" = 0:600 ] || fail "the context file is not root's with mode 0600"
truncate -s "$(fd_pos "$T/u.ctx" 1)" "$T/u/out"
"$CR_RESTART" "$T/u.ctx" 2> "$T/restart.err" &
r=$!
track $r
child=$(restored_pid $r)
ruid=$(awk '/^Uid:/ {print $2 ":" $3 ":" $4}' /proc/$child/status)
[ "$ruid" = "$uid:$uid:$uid" ] || fail "the restored process runs as $ruid, not as $U ($uid)"
wait $r || fail "cr_restart failed"
same "$T/ref" "$T/u/out"
pass
