# Linux AIO contexts: cr_info shows a saved one, which comes back through two
# restarts (checkpointed again in between); a program using libaio comes back
# with its context; the checkpoints refused (a request that stays in flight, a
# context the runtime did not see made) say why and leave the program running, its
# context intact.
. "$top_srcdir/tests/engine/lib.sh"
P=$top_builddir/tests/programs/aiomodes

# refused MODE REGEX: the checkpoint of aiomodes MODE says REGEX; the program then
# completes its request
# refused MODE REGEX ERRNO [cr_checkpoint options...]
refused() {
    local mode=$1 re=$2 err=$3 pid
    shift 3
    bg "$CR_RUN" "$P" "$mode" > "$T/$mode.out"
    pid=$!
    wait_runtime $pid
    wait_lines "$T/$mode.out" 1
    expect_refusal "$err" "$re" "$CR_CHECKPOINT" "$@" -f "$T/$mode.ctx" $pid
    [ ! -e "$T/$mode.ctx" ] || fail "$mode: a refused checkpoint left $T/$mode.ctx"
    kill -USR1 $pid
    wait_lines "$T/$mode.out" 2
    [ "$(sed -n 2p "$T/$mode.out")" = ok ] || fail "$mode: after the refusal: $(sed -n 2p "$T/$mode.out")"
}

# a context with three completions not reaped, as cr_info shows it
bg "$CR_RUN" "$top_builddir/tests/conformance/aio_unreaped" > "$T/unreaped.out"
pid=$!
wait_runtime $pid
wait_lines "$T/unreaped.out" 1
within 60 "$CR_CHECKPOINT" --kill -f "$T/unreaped.ctx" $pid || fail "checkpoint of aio_unreaped"
"$CR_INFO" "$T/unreaped.ctx" > "$T/unreaped.info" || fail "cr_info"
grep -Eq "^  AIO context 0x[0-9a-f]+: a ring of [0-9]+ events, 3 completed and not reaped \(head 0, tail 3\), none in flight" \
    "$T/unreaped.info" || { cat "$T/unreaped.info" >&2; fail "cr_info shows no AIO context with 3 events"; }
grep -Eq "^    [0-9a-f]+-[0-9a-f]+ rw- file-private .* saved  /\[aio\] \(deleted\) \(whole\)$" "$T/unreaped.info" ||
    { grep aio "$T/unreaped.info" >&2; fail "cr_info shows no [aio] ring saved whole"; }
within 30 "$CR_INFO" --json "$T/unreaped.ctx" > "$T/unreaped.json" || fail "cr_info --json"
${PYTHON3:-python3} -c "import json, sys
a = json.load(open(sys.argv[1]))['processes'][0]['aio']
assert len(a) == 1 and a[0]['unreaped'] == 3 and a[0]['events'] > 3 and a[0]['context'] > 0, a" \
    "$T/unreaped.json" || fail "cr_info --json: no AIO context with 3 unreaped events: $(cat "$T/unreaped.json")"

# restarted, checkpointed again and restarted: the context is made again each time
bg "$CR_RESTART" "$T/unreaped.ctx"
c=$(restored_pid $!)
within 60 "$CR_CHECKPOINT" --kill -f "$T/unreaped2.ctx" $c || fail "checkpoint of the restored aio_unreaped"
wait_gone $c
"$CR_INFO" "$T/unreaped2.ctx" | grep -q "^  AIO context .* 3 completed and not reaped" ||
    fail "the second checkpoint has no AIO context with 3 events"
bg "$CR_RESTART" "$T/unreaped2.ctx"
c=$(restored_pid $!)
kill -USR2 $c
wait_lines "$T/unreaped.out" 2
[ "$(sed -n 2p "$T/unreaped.out")" = PASS ] || fail "aio_unreaped after two restarts: $(sed -n 2p "$T/unreaped.out")"

# libaio (its calls go through syscall()), where libaio.so.1 is installed
bg "$CR_RUN" "$top_builddir/tests/programs/aiolib" > "$T/lib.out"
pid=$!
i=0
until grep -q ready "$T/lib.out" || ! kill -0 $pid 2>/dev/null; do
    i=$((i + 1)); [ $i -le 600 ] || fail "aiolib: not ready in 30 s"
    sleep 0.05
done
if grep -q ready "$T/lib.out"; then
    wait_runtime $pid
    within 60 "$CR_CHECKPOINT" --kill -f "$T/lib.ctx" $pid || fail "checkpoint of aiolib"
    wait_gone $pid
    bg "$CR_RESTART" "$T/lib.ctx"
    c=$(restored_pid $!)
    kill -USR1 $c
    wait_lines "$T/lib.out" 2
    [ "$(sed -n 2p "$T/lib.out")" = ok ] || fail "aiolib after the restart: $(sed -n 2p "$T/lib.out")"
else
    rc=0
    wait $pid || rc=$?
    [ $rc = 77 ] || fail "aiolib ended with $rc before it was ready: $(cat "$T/lib.out")"
    echo "libaio.so.1 is not installed: the libaio part is skipped"
fi

# the wait for requests in flight follows -t
refused poll "the AIO context at 0x[0-9a-f]+ still has 1 request\\(s\\) in flight after 3000 ms" 16 -t 3
refused raw "the AIO context at 0x[0-9a-f]+ \\(io_setup\\) was made by a system call the runtime did not see" 95
pass
