# Root writing a context file into a place a user can change follows none of that
# user's symbolic links and overwrites no file through them (--clobber, the default
# atomic mode, --backup), while the system's own (root's) links still work; the
# process is unharmed by the refused checkpoints.
. "$top_srcdir/tests/engine/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root (scripts/test runs the tests/root suite as root)"
U=${TEST_USER:-nobody}
id "$U" >/dev/null 2>&1 || U=nobody
as_u() { setpriv --reuid="$U" --regid="$(id -g "$U")" --init-groups "$@"; }
chmod 755 "$T"
mkdir "$T/u" "$T/rootonly" "$T/rootdir" && chown "$U" "$T/u" && chmod 700 "$T/rootonly"
echo "another user's data" > "$T/victim" && chown nobody "$T/victim" && chmod 644 "$T/victim"
cp /etc/passwd "$T/passwd" && chmod 644 "$T/passwd"
echo secret > "$T/rootonly/secret" && chmod 644 "$T/rootonly/secret"
snapshot() { stat -c '%u %a %s %Y' "$T/victim" "$T/passwd" "$T/rootonly/secret"; md5sum "$T/victim" "$T/passwd" "$T/rootonly/secret"; }
snapshot > "$T/before"

within 60 "$PROGS/heapsum" 8 60 0 > "$T/ref"
cd "$T/u"
setpriv --reuid="$U" --regid="$(id -g "$U")" --init-groups \
    sh -c "exec '$CR_RUN' '$PROGS/heapsum' 8 60 100 > '$T/u/out' 2> '$T/u/run.err'" &
pid=$!
track $pid
wait_runtime $pid
wait_lines "$T/u/out" 3

# the user's traps
as_u ln -s "$T/victim" "$T/u/to_victim"
as_u ln -s "$T/passwd" "$T/u/to_passwd"
as_u ln -s "$T/rootonly" "$T/u/dir"
as_u ln -s "$T/victim" "$T/u/ck.tmp"        # the atomic mode's temporary name
as_u ln -s "$T/victim" "$T/u/keep.~1~"      # a backup's name
as_u ln "$T/victim" "$T/u/hard" 2>/dev/null && hard=1 || hard=0 # fs.protected_hardlinks may forbid it

expect_refusal 40 "is a link or has other names" "$CR_CHECKPOINT" --clobber -f "$T/u/to_victim" $pid
expect_refusal 40 "is a link or has other names" "$CR_CHECKPOINT" --clobber -f "$T/u/to_passwd" $pid
expect_refusal 40 "dir is a symbolic link of uid $(id -u "$U"); as root, slurm-cr follows no link" \
    "$CR_CHECKPOINT" -f "$T/u/dir/secret" $pid
expect_refusal 40 "dir is a symbolic link of uid" "$CR_CHECKPOINT" --clobber -f "$T/u/dir/secret" $pid
[ "$hard" = 1 ] && expect_refusal 1 "is a link or has other names" "$CR_CHECKPOINT" --clobber -f "$T/u/hard" $pid
# the atomic mode replaces the planted temporary link itself, never its target
within 60 "$CR_CHECKPOINT" -f "$T/u/ck" $pid || fail "root could not checkpoint into the user's directory"
[ -L "$T/u/ck.tmp" ] && fail "the planted ck.tmp link is still there"
within 60 "$CR_CHECKPOINT" -f "$T/u/ck" $pid || fail "the second checkpoint failed"
within 60 "$CR_CHECKPOINT" --backup=keep -f "$T/u/ck" $pid || fail "--backup failed"
[ -f "$T/u/keep" ] && [ ! -L "$T/u/keep" ] || fail "--backup did not keep the old file"
within 60 "$CR_CHECKPOINT" --backup -f "$T/u/keep" $pid || fail "--backup (default name) failed"
[ -L "$T/u/keep.~1~" ] && [ -f "$T/u/keep.~2~" ] && [ ! -L "$T/u/keep.~2~" ] ||
    fail "the backup did not pass over the planted keep.~1~ link to keep.~2~"
snapshot > "$T/after"
same "$T/before" "$T/after"

# root's own links are the system's: followed
ln -s "$T/rootdir" "$T/rootlink"
within 60 "$CR_CHECKPOINT" -f "$T/rootlink/ok.ctx" $pid || fail "a link of root's was not followed"
[ "$(stat -c %u:%a "$T/rootdir/ok.ctx")" = 0:600 ] || fail "the file through root's link is not 0600 root's"
"$CR_INFO" "$T/rootdir/ok.ctx" > /dev/null || fail "the file through root's link is not a valid image"

# the process went on as if nothing had happened
kill -0 $pid 2>/dev/null || fail "the process did not survive the refused checkpoints"
wait_gone $pid 120
same "$T/ref" "$T/u/out"
pass
