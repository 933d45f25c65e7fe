# When a tree cannot be checkpointed or restarted: a process of the tree that is not
# under the runtime is named and the tree goes on untouched; a full filesystem fails
# with ENOSPC, keeps the previous checkpoint and harms no process; a file one process
# of the tree needs is gone: cr_restart names that process and starts nothing; a
# stopped child that handles SIGCONT, or that runs without the runtime, is named
# (continuing it would run its handler, or let it run) and stays stopped.
. "$top_srcdir/tests/engine/lib.sh"
cd "$T"

# 1. a child started without the runtime
bg "$CR_RUN" bash -c 'env -u LD_PRELOAD sleep 30 & echo "child $!"; wait' > "$T/plain.out"
pid=$!
wait_runtime $pid
wait_lines "$T/plain.out" 1
child=$(sed -n 's/^child //p' "$T/plain.out")
expect_refusal 95 "process $child \(sleep\) of the tree: process $child is not running under cr_run" \
    "$CR_CHECKPOINT" -t 2 -f "$T/plain.ctx" $pid
[ ! -e "$T/plain.ctx" ] && [ ! -e "$T/plain.ctx.tmp" ] || fail "a refused tree checkpoint left a file"
[ "$(awk '{print $3}' /proc/$pid/stat)" = S ] && kill -0 $child || fail "the tree was harmed"
kill $child
wait_gone $pid

# 2. ENOSPC: a shell whose child holds 16 MiB, checkpointed into 4 MiB
within 60 bash -c "$PROGS/heapsum 16 30 0" > "$T/ref"
bg "$CR_RUN" bash -c "$PROGS/heapsum 16 30 100; echo end" > "$T/out" 2> "$T/run.err"
pid=$!
wait_runtime $pid
wait_lines "$T/out" 2
mkdir "$T/small"
ns="unshare -m"; [ "$(id -u)" = 0 ] || ns="unshare -r -m"
if $ns true 2>/dev/null; then
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
    grep -q "heapsum.*No space left on device" "$T/full.err" || fail "the message does not name the process and ENOSPC: $(cat "$T/full.err")"
    [ "$(cat "$T/after")" = previous ] || fail "the previous checkpoint was harmed"
    [ "$(cat "$T/listing")" = x.ctx ] || fail "files were left behind: $(cat "$T/listing")"
else
    echo "no mount namespace here ($ns): the ENOSPC part is left out"
fi
wait_gone $pid 60
echo end >> "$T/ref"
same "$T/ref" "$T/out"

# 3. a file a child of the tree has open is gone at restart
echo data > "$T/data"
bg "$CR_RUN" bash -c "(exec 3< '$T/data'; sleep 3) & wait" > /dev/null
pid=$!
wait_runtime $pid
sleep 0.5
within 60 "$CR_CHECKPOINT" --kill -f "$T/gone.ctx" $pid || fail "checkpoint of the tree failed"
wait_gone $pid
rm "$T/data"
expect_refusal 2 "process [0-9]+ \((bash|sleep)\): $T/data \(open as fd 3\) is gone" "$CR_RESTART" "$T/gone.ctx"

# 4. a stopped child with a SIGCONT handler: refused, the child still stopped
bg "$CR_RUN" bash -c 'bash -c "trap \"echo continued\" CONT; while :; do sleep 0.1; done" & echo "child $!"; wait' > "$T/cont.out"
pid=$!
wait_runtime $pid
wait_lines "$T/cont.out" 1
child=$(sed -n 's/^child //p' "$T/cont.out")
wait_runtime $child
kill -STOP $child
sleep 0.3
expect_refusal 16 "process $child \(bash\) of the tree is stopped and handles SIGCONT" \
    "$CR_CHECKPOINT" -t 2 -f "$T/cont.ctx" $pid
[ "$(awk '{print $3}' /proc/$child/stat)" = T ] || fail "the stopped child was continued"
! grep -q continued "$T/cont.out" || fail "the child's SIGCONT handler ran"
kill -KILL $child
wait_gone $pid

# 5. a stopped child without the runtime: refused as such, never continued
bg "$CR_RUN" bash -c 'env -u LD_PRELOAD sleep 30 & echo "child $!"; wait' > "$T/plainstop.out"
pid=$!
wait_runtime $pid
wait_lines "$T/plainstop.out" 1
child=$(sed -n 's/^child //p' "$T/plainstop.out")
kill -STOP $child
sleep 0.3
expect_refusal 95 "process $child \(sleep\) of the tree is stopped and not running under cr_run" \
    "$CR_CHECKPOINT" -t 2 -f "$T/plainstop.ctx" $pid
[ "$(awk '{print $3}' /proc/$child/stat)" = T ] || fail "the stopped child without the runtime was continued"
kill -KILL $child
wait_gone $pid
pass
