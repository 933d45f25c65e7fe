# Files deleted while open (unlinked, and O_TMPFILE past a megabyte): their contents
# are saved in the image, and at restart they are unnamed files again with the same
# contents and offsets.  A deleted directory still open is made again under its name
# and removed: when that name is taken now, the restart says so.
. "$top_srcdir/tests/engine/lib.sh"
mkdir "$T/ref.d" "$T/run.d"
within 60 "$PROGS/deleted" "$T/ref.d" 40 > "$T/ref" || fail "reference run failed"
bg "$CR_RUN" "$PROGS/deleted" "$T/run.d" 40 > "$T/out" 2> "$T/run.err"
pid=$!
wait_runtime $pid
wait_lines "$T/out" 10
within 30 "$CR_CHECKPOINT" -f "$T/a.ctx" $pid || fail "first checkpoint failed"
wait_lines "$T/out" 30
within 30 "$CR_CHECKPOINT" --kill -f "$T/b.ctx" $pid || fail "second checkpoint failed"
wait_gone $pid
"$CR_INFO" "$T/b.ctx" | grep -q "scratch (deleted), contents saved" || fail "the unlinked file's contents are not saved"
[ -z "$(ls "$T/run.d")" ] || fail "files appeared in the directory"
for name in a b; do
    truncate -s "$(fd_pos "$T/$name.ctx" 1)" "$T/out"
    within 60 "$CR_RESTART" "$T/$name.ctx" 2> "$T/restart.err" || fail "restart from $name failed"
    same "$T/ref" "$T/out"
done
[ -z "$(ls "$T/run.d")" ] || fail "the restart left named files in the directory"

mkdir "$T/dirfd" && cd "$T/dirfd" || fail "mkdir"
bg "$CR_RUN" "$top_builddir/tests/conformance/deleted_dir_fd" > out 2> err
pid=$!
wait_runtime $pid
wait_lines out 1
within 30 "$CR_CHECKPOINT" --kill -f "$T/dir.ctx" $pid || fail "checkpoint of a deleted directory failed"
wait_gone $pid
"$CR_INFO" "$T/dir.ctx" | grep -q "$T/dirfd/dir (deleted: made again at restart" || fail "cr_info does not show the deleted directory"
mkdir dir
expect_refusal 17 "cannot make the deleted directory $T/dirfd/dir again .*move that away" "$CR_RESTART" "$T/dir.ctx"
rmdir dir
bg "$CR_RESTART" "$T/dir.ctx" >> out
r=$!
kill -USR2 "$(restored_pid $r)"
within 30 tail --pid=$r -f /dev/null
[ "$(tail -n 1 out)" = PASS ] || fail "the deleted directory after the restart: $(tail -n 1 out)"
[ ! -e dir ] || fail "the restart left the deleted directory's name behind"
pass
