# An image carries the uids and gids of its processes, and whoever owns the file can
# rewrite them (recomputing the checksums).  Root's cr_restart must run a user's file
# as that user and refuse a file that claims root, another user, or a group the user
# is not in; nor may root restart an image others can write.
. "$top_srcdir/tests/engine/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root (scripts/test runs the tests/root suite as root)"
U=${TEST_USER:-nobody}
id "$U" >/dev/null 2>&1 || U=nobody
uid=$(id -u "$U")
other=nobody
[ "$U" = nobody ] && other=daemon
ouid=$(id -u "$other")
chmod 755 "$T"
mkdir "$T/u" && chown "$U" "$T/u"
as_u() { setpriv --reuid="$U" --regid="$(id -g "$U")" --init-groups "$@"; }

within 60 "$PROGS/heapsum" 8 30 0 > "$T/ref"
cd "$T/u"
setpriv --reuid="$U" --regid="$(id -g "$U")" --init-groups sh -c "exec '$CR_RUN' '$PROGS/heapsum' 8 30 100 > '$T/u/out' 2> '$T/u/run.err'" &
pid=$!
track $pid
wait_runtime $pid
wait_lines "$T/u/out" 3
# the user checkpoints their own process into their own file
as_u timeout 60 "$CR_CHECKPOINT" --kill -f "$T/u/good.ctx" $pid || fail "the user could not checkpoint"
wait_gone $pid
[ "$(stat -c %u "$T/u/good.ctx")" = "$uid" ] || fail "the user's context file is not theirs"
truncate -s "$(fd_pos "$T/u/good.ctx" 1)" "$T/u/out"
cp "$T/u/out" "$T/u/out.at-checkpoint"

# the forgeries, made by the user on copies of their own file
forge() { # NAME FIELD=VALUE...
    local name=$1; shift
    as_u cp "$T/u/good.ctx" "$T/u/$name.ctx"
    for edit in "$@"; do
        as_u "$PROGS/ctxedit" "$T/u/$name.ctx" "$edit" || fail "ctxedit $edit failed"
    done
}
forge root proc.uid=0 proc.euid=0 proc.gid=0 proc.egid=0 header.uid=0
forge root_proc proc.uid=0 proc.euid=0
forge root_euid proc.euid=0
forge other proc.uid="$ouid" proc.euid="$ouid" header.uid="$ouid"
forge group proc.gid=0 proc.egid=0
for f in root root_proc root_euid other group; do
    "$CR_RESTART" "$T/u/$f.ctx" > "$T/$f.out" 2> "$T/$f.err" &
    r=$!
    wait $r; rc=$?
    [ "$rc" = 1 ] || { cat "$T/$f.err" >&2; fail "root's cr_restart of the forged '$f' image exited $rc, not 1 (EPERM)"; }
    grep -Eq "belongs to uid $uid but holds|groups uid $uid is not in" "$T/$f.err" ||
        { cat "$T/$f.err" >&2; fail "the refusal of '$f' does not say why"; }
done
same "$T/u/out.at-checkpoint" "$T/u/out"   # none of them ran a single step

# a file others may write is not restarted by root
as_u cp "$T/u/good.ctx" "$T/u/open.ctx"
chmod 664 "$T/u/open.ctx"
expect_refusal 1 "writable by other users \(mode 664\)" "$CR_RESTART" "$T/u/open.ctx"

# the user's own file, untouched: root restarts it as the user
"$CR_RESTART" "$T/u/good.ctx" 2> "$T/restart.err" &
r=$!
track $r
child=$(restored_pid $r)
ids=$(awk '/^Uid:/ {u = $2 ":" $3 ":" $4} /^Gid:/ {g = $2} /^CapEff:/ {c = $2} END {print u, g, c}' /proc/$child/status)
[ "$ids" = "$uid:$uid:$uid $(id -g "$U") 0000000000000000" ] ||
    fail "the restored process runs as '$ids', not as $U with no capabilities"
ruid=$(awk '/^Uid:/ {print $2}' /proc/$r/status)
[ "$ruid" = "$uid" ] || fail "cr_restart stayed root ($ruid) while it restored the user's image"
wait $r || fail "cr_restart failed"
same "$T/ref" "$T/u/out"
pass
