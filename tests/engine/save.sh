# --save-exe and --save-all put the mapped files' pages in the image, so a restart
# works after the executable is deleted or replaced; without them it is refused.
. "$top_srcdir/tests/engine/lib.sh"
mkdir "$T/bin"
within 60 "$PROGS/heapsum" 8 30 0 > "$T/ref"
for opt in --save-exe --save-all; do
    cp "$PROGS/heapsum" "$T/bin/prog"
    bg "$CR_RUN" "$T/bin/prog" 8 30 100 > "$T/out" 2> "$T/run.err"
    pid=$!
    wait_runtime $pid
    wait_lines "$T/out" 4
    within 60 "$CR_CHECKPOINT" $opt --kill -f "$T/s.ctx" $pid || fail "checkpoint $opt failed"
    wait_gone $pid
    "$CR_INFO" "$T/s.ctx" | grep -q "$T/bin/prog (whole)" || fail "$opt: the executable is not saved whole"
    if [ $opt = --save-all ]; then
        "$CR_INFO" "$T/s.ctx" | grep -q "libc.so.6 (whole)" || fail "--save-all: libc is not saved whole"
    fi
    echo "something else entirely" > "$T/bin/prog"   # replaced...
    rm "$T/bin/prog"                                  # ...and gone
    truncate -s "$(fd_pos "$T/s.ctx" 1)" "$T/out"
    within 60 "$CR_RESTART" "$T/s.ctx" 2> "$T/restart.err" || fail "restart after $opt without the executable failed"
    same "$T/ref" "$T/out"
done
# without: refused, naming the executable
cp "$PROGS/heapsum" "$T/bin/prog"
bg "$CR_RUN" "$T/bin/prog" 8 30 100 > "$T/out" 2> "$T/run.err"
pid=$!
wait_runtime $pid
wait_lines "$T/out" 2
within 60 "$CR_CHECKPOINT" --kill -f "$T/n.ctx" $pid || fail "checkpoint failed"
wait_gone $pid
rm "$T/bin/prog"
expect_refusal 2 "the executable $T/bin/prog is gone" "$CR_RESTART" "$T/n.ctx"
pass
