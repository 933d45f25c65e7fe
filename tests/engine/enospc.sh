# A checkpoint to a full filesystem fails with ENOSPC, leaves no file as the
# destination, keeps the previous good checkpoint, and does not harm the process.
. "$top_srcdir/tests/engine/lib.sh"
within 60 "$PROGS/heapsum" 16 30 0 > "$T/ref"
bg "$CR_RUN" "$PROGS/heapsum" 16 30 100 > "$T/out" 2> "$T/run.err"
pid=$!
wait_runtime $pid
wait_lines "$T/out" 2
mkdir "$T/small"
# a 4 MiB tmpfs in a private mount namespace (a user namespace when not root)
ns="unshare -m"; [ "$(id -u)" = 0 ] || ns="unshare -r -m"
$ns true 2>/dev/null || skip "cannot create a mount namespace here ($ns): unprivileged user namespaces are disabled"
cat > "$T/full.sh" <<SH
set -e
mount -t tmpfs -o size=4m tmpfs "$T/small"
echo previous > "$T/small/x.ctx"
rc=0; "$CR_CHECKPOINT" -f "$T/small/x.ctx" $pid 2> "$T/full.err" || rc=\$?
echo \$rc > "$T/rc"
cat "$T/small/x.ctx" > "$T/after"
ls "$T/small" > "$T/listing"
SH
within 60 $ns sh "$T/full.sh" || fail "the tmpfs script failed"
[ "$(cat "$T/rc")" = 28 ] || { cat "$T/full.err" >&2; fail "exit status $(cat "$T/rc"), not 28 (ENOSPC)"; }
grep -q "No space left on device" "$T/full.err" || fail "the message does not say ENOSPC"
[ "$(cat "$T/after")" = previous ] || fail "the previous checkpoint was harmed"
[ "$(cat "$T/listing")" = x.ctx ] || fail "files were left behind: $(cat "$T/listing")"
wait_gone $pid 60
same "$T/ref" "$T/out"
pass
