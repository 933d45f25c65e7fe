# A program computing over a 256 MiB heap, checkpointed at three points while it
# runs (a copy-on-write snapshot, a stopped dump, then one that kills it), restarted
# from each: the output must match an uninterrupted run byte for byte.
. "$top_srcdir/tests/engine/lib.sh"
prog="$PROGS/heapsum 256 12 150"
within 120 $prog > "$T/ref" || fail "reference run failed"
cd "$T"
bg "$CR_RUN" $prog > "$T/out" 2> "$T/run.err"
pid=$!
wait_runtime $pid
for point in a:2 b:5 c:8; do
    name=${point%%:*}
    wait_lines "$T/out" ${point#*:} 60
    # a: the default copy-on-write snapshot (the program writes its heap meanwhile);
    # b: --no-cow, stopped until written; c: checkpoint, then killed
    opt=--run; [ $name = b ] && opt=--no-cow; [ $name = c ] && opt=--kill
    within 120 "$CR_CHECKPOINT" $opt -f "$T/$name.ctx" $pid 2> "$T/ckpt.err" || fail "checkpoint $name failed"
    [ "$(stat -c %a "$T/$name.ctx")" = 600 ] || fail "context file mode is not 0600"
done
wait_gone $pid
for name in a b c; do
    pos=$(fd_pos "$T/$name.ctx" 1)
    [ -n "$pos" ] || fail "no stdout offset in $name.ctx"
    truncate -s "$pos" "$T/out"   # the restart must write everything after it again
    within 120 "$CR_RESTART" "$T/$name.ctx" 2> "$T/restart.err" || fail "restart from $name failed"
    same "$T/ref" "$T/out"
done
pass
