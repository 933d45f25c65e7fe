# Incremental checkpoints (--incremental, CR_INCREMENTAL): a program holding 256 MiB
# that changes a known tenth of its pages between checkpoints (written by itself, by
# the kernel through read(), dropped with MADV_DONTNEED, a region unmapped and mapped
# again at the same address, a region moved, a forked child writing its copy) is
# checkpointed five times in a chain (copy-on-write, stopped until written,
# compressed): each image after the first holds about that tenth, one of an unchanged
# process almost nothing; restarts from the second and the last equal an
# uninterrupted run; cr_info shows the chain; a parent removed or replaced is refused
# naming it; an earlier checkpoint of the process as the destination is refused; the
# last merged with its chain (--merge) restarts alone.
. "$top_srcdir/tests/engine/lib.sh"
cd "$T"
mkdir ref run
touch ref/step.1 ref/step.2 ref/step.3 ref/step.4 ref/step.5 ref/step.6
within 300 "$PROGS/dirtier" 256 7 "$T/ref" > "$T/ref.out" || fail "reference run failed"
bg "$CR_RUN" "$PROGS/dirtier" 256 7 "$T/run" > "$T/out" 2> "$T/run.err"
pid=$!
wait_runtime $pid
# 1: full (the first of a chain), copy-on-write; 2: stopped until written; 3: from
# the environment; 4: compressed; 5: copy-on-write again
for g in 1 2 3 4 5; do
    wait_lines "$T/out" $g 120
    case $g in
        2) within 120 "$CR_CHECKPOINT" -v --incremental --no-cow -f "$T/ctx.$g" $pid ;;
        3) within 120 env CR_INCREMENTAL=yes "$CR_CHECKPOINT" -v -f "$T/ctx.$g" $pid ;;
        4) within 120 "$CR_CHECKPOINT" -v --incremental --compress -f "$T/ctx.$g" $pid ;;
        *) within 120 "$CR_CHECKPOINT" -v --incremental -f "$T/ctx.$g" $pid ;;
    esac 2> "$T/ckpt.$g.err" || { cat "$T/ckpt.$g.err" >&2; fail "checkpoint $g failed"; }
    if [ $g = 2 ] && grep -q "a full checkpoint" "$T/ckpt.2.err"; then
        grep -Eq "asynchronous userfaultfd|PAGEMAP_SCAN|userfaultfd is not available" "$T/ckpt.2.err" &&
            { kill -9 $pid; skip "no dirty-page tracking here: $(grep 'full checkpoint' "$T/ckpt.2.err")"; }
        cat "$T/ckpt.2.err" >&2; fail "the second checkpoint is full"
    fi
    touch "$T/run/step.$g"
done
grep -q "the first of a chain" "$T/ckpt.1.err" || fail "the first checkpoint does not say it starts a chain"
# an unchanged process: it waits for step.6 once it printed step 6
wait_lines "$T/out" 6 120
within 120 "$CR_CHECKPOINT" --incremental -f "$T/ctx.6" $pid || fail "checkpoint 6 failed"
within 120 "$CR_CHECKPOINT" --incremental -f "$T/ctx.7" $pid || fail "checkpoint 7 failed"
# the destination an earlier checkpoint of the process: it could be the parent
expect_refusal 17 "holds an earlier checkpoint of process $pid" \
    "$CR_CHECKPOINT" --incremental -f "$T/ctx.7" $pid
expect_refusal 22 "CR_INCREMENTAL=maybe: want yes or no" \
    env CR_INCREMENTAL=maybe "$CR_CHECKPOINT" -f "$T/ctx.x" $pid
touch "$T/run/step.6"
wait_gone $pid 120
same "$T/ref.out" "$T/out"

size() { stat -c %s "$1"; }
full=$(size "$T/ctx.1")
[ "$full" -gt $((256 << 20)) ] || fail "the first image is $full bytes: not the whole memory"
# a tenth of the pages written by the program, 64 pages by the kernel, a 4 MiB region
# new or moved: about a tenth of the full image (which has 8 MiB more), below a fifth
for g in 2 3 4 5; do
    s=$(size "$T/ctx.$g")
    [ $((s * 100 / full)) -ge 8 ] && [ $((s * 100 / full)) -lt 20 ] ||
        [ $g = 4 ] || fail "ctx.$g is $s bytes, $((s * 100 / full))% of the full $full"
done
s=$(size "$T/ctx.7")
[ $((s * 100 / full)) -lt 2 ] || fail "ctx.7 of an unchanged process is $s bytes of $full"

"$CR_INFO" "$T/ctx.5" > "$T/info.5" || fail "cr_info refuses ctx.5"
grep -q "chain: <- $T/ctx.4 <- $T/ctx.3 <- $T/ctx.2 <- $T/ctx.1 (full)" "$T/info.5" ||
    { cat "$T/info.5" >&2; fail "cr_info does not show the chain"; }
grep -q "incremental: .* taken from its parent ctx.4 (4 images above" "$T/info.5" ||
    fail "cr_info does not show what ctx.5 takes from its parent"
"$CR_INFO" --json "$T/ctx.5" | grep -q '"parent":{"name":"ctx.4","depth":4,"taken":[0-9]*}' ||
    fail "cr_info --json does not show the parent"

for g in 2 5 7; do
    pos=$(fd_pos "$T/ctx.$g" 1)
    [ -n "$pos" ] || fail "no stdout offset in ctx.$g"
    truncate -s "$pos" "$T/out"
    within 300 "$CR_RESTART" "$T/ctx.$g" 2> "$T/restart.err" ||
        { cat "$T/restart.err" >&2; fail "restart from ctx.$g failed"; }
    same "$T/ref.out" "$T/out"
done
# from an open descriptor (as the libcr restart API hands it over): the parents are
# next to the file it leads to
pos=$(fd_pos "$T/ctx.5" 1)
truncate -s "$pos" "$T/out"
(cd / && within 300 "$CR_RESTART" -F 7 7< "$T/ctx.5") 2> "$T/restart.err" ||
    { cat "$T/restart.err" >&2; fail "restart from ctx.5 by its descriptor failed"; }
same "$T/ref.out" "$T/out"

# a parent missing, then replaced by another file: refused, naming it
mv "$T/ctx.3" "$T/ctx.3.away"
expect_refusal 2 "the parent image $T/ctx.3 of $T/ctx.4 is missing" "$CR_RESTART" "$T/ctx.5"
expect_refusal 2 "ctx.3 of .*ctx.4 is missing" "$CR_INFO" "$T/ctx.5"
cp "$T/ctx.2" "$T/ctx.3"
expect_refusal 116 "$T/ctx.3 is not the parent image $T/ctx.4 was made from" "$CR_RESTART" "$T/ctx.5"
mv "$T/ctx.3.away" "$T/ctx.3"
"$CR_INFO" -q "$T/ctx.5" || fail "the chain back in place is refused"
# a parent others may write: not the owner's alone
chmod g+w "$T/ctx.2"
expect_refusal 1 "the parent image $T/ctx.2 belongs to uid [0-9]*, or others may write it" \
    "$CR_RESTART" "$T/ctx.5"
chmod g-w "$T/ctx.2"

# merged into one full image, which restarts without the chain
expect_refusal 17 "ctx.3 is one of the parents of" "$CR_CHECKPOINT" --merge "$T/ctx.5" -f "$T/ctx.3"
within 120 "$CR_CHECKPOINT" --merge "$T/ctx.5" -f "$T/full.5" || fail "--merge failed"
"$CR_INFO" "$T/full.5" > "$T/info.full" || fail "cr_info refuses the merged image"
grep -q "incremental:" "$T/info.full" && fail "the merged image is still incremental"
mkdir "$T/away"
mv "$T/ctx.1" "$T/ctx.2" "$T/ctx.3" "$T/ctx.4" "$T/away/"
pos=$(fd_pos "$T/full.5" 1)
truncate -s "$pos" "$T/out"
within 300 "$CR_RESTART" "$T/full.5" 2> "$T/restart.err" ||
    { cat "$T/restart.err" >&2; fail "restart from the merged image failed"; }
same "$T/ref.out" "$T/out"
pass
