# An incremental image names its parents by path, and its owner writes that path:
# root's cr_restart (and cr_checkpoint --merge) must take memory only from images the
# same user owns, never from another user's (root's here), whatever the chain's
# identity checks say; the chain as the user made it restarts, as that user.
. "$top_srcdir/tests/engine/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root (scripts/test runs the tests/root suite as root)"
U=${TEST_USER:-nobody}
id "$U" >/dev/null 2>&1 || U=nobody
uid=$(id -u "$U")
chmod 755 "$T"
mkdir "$T/u" "$T/ref" && chown "$U" "$T/u"
as_u() { setpriv --reuid="$U" --regid="$(id -g "$U")" --init-groups "$@"; }
touch "$T/ref/step.1" "$T/ref/step.2"
within 120 "$PROGS/dirtier" 16 3 "$T/ref" > "$T/ref.out" || fail "reference run failed"
cd "$T/u"
setpriv --reuid="$U" --regid="$(id -g "$U")" --init-groups \
    sh -c "exec '$CR_RUN' '$PROGS/dirtier' 16 3 '$T/u' > '$T/u/out' 2> '$T/u/run.err'" &
pid=$!
track $pid
wait_runtime $pid
wait_lines "$T/u/out" 1 60
as_u timeout 60 "$CR_CHECKPOINT" --incremental -f "$T/u/ctx.1" $pid || fail "checkpoint 1 failed"
as_u touch "$T/u/step.1"
wait_lines "$T/u/out" 2 60
as_u timeout 60 "$CR_CHECKPOINT" --incremental --kill -f "$T/u/ctx.2" $pid 2> "$T/ckpt.err" ||
    { cat "$T/ckpt.err" >&2; fail "checkpoint 2 failed"; }
wait_gone $pid 60
"$CR_INFO" "$T/u/ctx.2" | grep -q "incremental:" || skip "no dirty-page tracking on this kernel"
truncate -s "$(fd_pos "$T/u/ctx.2" 1)" "$T/u/out"
as_u touch "$T/u/step.2"

# the parent, the very same bytes, but root's: root's cr_restart reads the chain as
# the user already (a file only root may read: EACCES), and refuses one the user may
# read but does not own (EPERM); root's --merge refuses it too
cp "$T/u/ctx.1" "$T/root.ctx" && chmod 600 "$T/root.ctx" && mv "$T/u/ctx.1" "$T/u/ctx.1.mine"
mv "$T/root.ctx" "$T/u/ctx.1"
expect_refusal 13 "the parent image .*ctx.1 of this image cannot be used: .*Permission denied" \
    "$CR_RESTART" "$T/u/ctx.2"
chmod 644 "$T/u/ctx.1"
expect_refusal 1 "the parent image .*ctx.1 belongs to uid 0, or others may write it" \
    "$CR_RESTART" "$T/u/ctx.2"
expect_refusal 1 "the parent image .*ctx.1 belongs to uid 0" \
    "$CR_CHECKPOINT" --merge "$T/u/ctx.2" -f "$T/merged.ctx"
[ -e "$T/merged.ctx" ] && fail "--merge wrote another user's memory"
mv "$T/u/ctx.1.mine" "$T/u/ctx.1"
# the user's own chain: root restarts it as the user
within 120 "$CR_RESTART" "$T/u/ctx.2" 2> "$T/restart.err" ||
    { cat "$T/restart.err" >&2; fail "root's restart of the user's chain failed"; }
same "$T/ref.out" "$T/u/out"
pass
