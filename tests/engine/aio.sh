# Linux AIO contexts: cr_info shows a saved one; the checkpoints refused (a request
# that stays in flight, a context the runtime did not see made) say why and leave
# the program running, its context intact.
. "$top_srcdir/tests/engine/lib.sh"
P=$top_builddir/tests/programs/aiomodes

# refused MODE REGEX: the checkpoint of aiomodes MODE says REGEX; the program then
# completes its request
refused() {
    local mode=$1 re=$2 pid
    bg "$CR_RUN" "$P" "$mode" > "$T/$mode.out"
    pid=$!
    wait_runtime $pid
    wait_lines "$T/$mode.out" 1
    expect_refusal "$3" "$re" "$CR_CHECKPOINT" -f "$T/$mode.ctx" $pid
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
grep -Eq "FILE_PRIVATE|file.*/\[aio\] \(deleted\) \(whole\)" "$T/unreaped.info" ||
    { grep aio "$T/unreaped.info" >&2; fail "cr_info shows no [aio] ring saved whole"; }

refused poll "the AIO context at 0x[0-9a-f]+ still has 1 request\\(s\\) in flight after 10000 ms" 16
refused raw "the AIO context at 0x[0-9a-f]+ \\(io_setup\\) was made by a system call the runtime did not see" 95
pass
