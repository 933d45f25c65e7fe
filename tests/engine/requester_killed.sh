# A requester killed in the middle of a checkpoint (kill -9 of cr_checkpoint while the
# process writes itself) leaves no partial file behind, neither FILE.tmp nor FILE: the
# new file has no name until it is complete.  The previous FILE stays good, and the
# process goes on unharmed.  A target killed while its copy-on-write snapshot is written
# still gets its checkpoint: the snapshot holds it as it was when frozen, and its
# writer answers the requester itself (those with --no-precopy: the copy-on-write
# way).  The same requester killed, and the target killed, while its memory is
# pre-copied (the default at 256 MiB): no file left, the previous one kept.
. "$top_srcdir/tests/engine/lib.sh"
within 60 "$PROGS/heapsum" 256 40 0 > "$T/ref"
mkdir "$T/ck"
bg "$CR_RUN" "$PROGS/heapsum" 256 40 150 > "$T/out" 2> "$T/run.err"
pid=$!
wait_runtime $pid
wait_lines "$T/out" 2
within 60 "$CR_CHECKPOINT" -f "$T/ck/x.ctx" $pid || fail "the first checkpoint failed"
before=$(md5sum < "$T/ck/x.ctx")
# writing PID REQUESTER: until the copy-on-write snapshot child of PID writes the file
# (10 s at most), or the requester is done
writing() {
    local i=0
    until pgrep -P $1 -x cr-snapshot > /dev/null; do
        i=$((i + 1)); kill -0 $2 2>/dev/null && [ $i -le 1000 ] || break; sleep 0.01
    done
}
killed=0
for try in 1 2 3 4 5; do
    "$CR_CHECKPOINT" --no-precopy -f "$T/ck/x.ctx" $pid 2> "$T/killed.err" &
    ck=$!
    writing $pid $ck # then kill its requester
    kill -9 $ck 2>/dev/null && killed=$((killed + 1))
    wait $ck 2>/dev/null
    # the writer finishes (or notices) and goes; then nothing new may be there
    i=0; while pgrep -P $pid -x cr-snapshot > /dev/null; do
        i=$((i + 1)); [ $i -le 3000 ] || fail "the snapshot writer stayed after its requester died"; sleep 0.01
    done
    [ "$(ls "$T/ck")" = x.ctx ] || fail "files were left behind: $(ls "$T/ck")"
    [ "$(md5sum < "$T/ck/x.ctx")" = "$before" ] || fail "the previous checkpoint was changed"
done
[ $killed -ge 1 ] || fail "no requester could be killed in the middle of its checkpoint"
"$CR_INFO" "$T/ck/x.ctx" > /dev/null || fail "the previous checkpoint is no longer valid"
wait_gone $pid 120
same "$T/ref" "$T/out"

# busy PID REQUESTER: until the runtime of PID works on a job (its manager thread is
# named after the requester), or the requester is done
busy() {
    local i=0
    until grep -qs "^cr-busy" /proc/$1/task/*/comm; do
        i=$((i + 1)); kill -0 $2 2>/dev/null && [ $i -le 1000 ] || break; sleep 0.01
    done
}
# the requester killed while the memory is pre-copied (a process of its own, which runs
# long enough for every try)
within 300 "$PROGS/heapsum" 256 80 0 > "$T/ref4"
bg "$CR_RUN" "$PROGS/heapsum" 256 80 100 > "$T/out4" 2> "$T/run4.err"
pid=$!
wait_runtime $pid
wait_lines "$T/out4" 2
before=$(md5sum < "$T/ck/x.ctx")
killed=0
for try in 1 2 3; do
    "$CR_CHECKPOINT" -f "$T/ck/x.ctx" $pid 2> "$T/killed.err" &
    ck=$!
    busy $pid $ck # (it pre-copies: 256 MiB take a while to write)
    kill -9 $ck 2>/dev/null && killed=$((killed + 1))
    wait $ck 2>/dev/null
    [ "$(ls "$T/ck")" = x.ctx ] || fail "files were left behind: $(ls "$T/ck")"
    [ "$(md5sum < "$T/ck/x.ctx")" = "$before" ] || fail "the previous checkpoint was changed (pre-copy)"
done
[ $killed -ge 1 ] || fail "no requester could be killed in the middle of its pre-copy"
kill -0 $pid || fail "the process did not survive its requesters killed during pre-copies"
wait_gone $pid 300
same "$T/ref4" "$T/out4"

# the target killed while its memory is pre-copied: the checkpoint fails, naming it
bg "$CR_RUN" "$PROGS/heapsum" 256 40 150 > "$T/out3" 2> "$T/run3.err"
pid=$!
wait_runtime $pid
wait_lines "$T/out3" 2
"$CR_CHECKPOINT" -f "$T/ck/x.ctx" $pid 2> "$T/target3.err" &
ck=$!
busy $pid $ck
kill -9 $pid
rc=0; within 60 tail --pid=$ck -f /dev/null || fail "cr_checkpoint still waits a minute after its target died"
wait $ck || rc=$?
wait_gone $pid
if [ $rc = 0 ]; then # (it was done before the kill)
    "$CR_INFO" "$T/ck/x.ctx" > /dev/null || fail "the checkpoint said done but is not valid"
else
    grep -q "process $pid" "$T/target3.err" || { cat "$T/target3.err" >&2; fail "the failure does not name the process"; }
    [ "$(md5sum < "$T/ck/x.ctx")" = "$before" ] || fail "a failed checkpoint changed the previous one"
fi
[ "$(ls "$T/ck")" = x.ctx ] || fail "files were left behind: $(ls "$T/ck")"

# the target killed while its snapshot is written: the checkpoint completes
bg "$CR_RUN" "$PROGS/heapsum" 256 40 150 > "$T/out2" 2> "$T/run2.err"
pid=$!
wait_runtime $pid
wait_lines "$T/out2" 2
before=$(md5sum < "$T/ck/x.ctx")
"$CR_CHECKPOINT" --no-precopy -f "$T/ck/x.ctx" $pid 2> "$T/target.err" &
ck=$!
writing $pid $ck
kill -9 $pid
i=0; while kill -0 $ck 2>/dev/null; do
    i=$((i + 1)); [ $i -le 600 ] || fail "cr_checkpoint still waits 30 s after its target died"; sleep 0.05
done
rc=0; wait $ck || rc=$?
wait_gone $pid
[ $rc = 0 ] || fail "the checkpoint of a target killed while its snapshot was written failed: $(cat "$T/target.err")"
[ "$(ls "$T/ck")" = x.ctx ] || fail "files were left behind: $(ls "$T/ck")"
[ "$(md5sum < "$T/ck/x.ctx")" != "$before" ] || fail "the new checkpoint did not replace the old one"
"$CR_INFO" "$T/ck/x.ctx" > /dev/null || fail "the new checkpoint is not valid"
pass
