# BLCR compatibility (b): a BLCR-style harness starts a worker that checkpoints itself
# (cr_request_checkpoint + cr_poll_checkpoint), kills it, and restarts it with
# cr_request_restart + cr_poll_restart; the restarted worker is the harness's child,
# and its output and exit status are those of a run that was never interrupted.
# A restart that fails reports cr_restart's errno and message through the API.
. "$top_srcdir/tests/engine/lib.sh"
. "$top_srcdir/tests/blcr/lib.sh"
blcr_cc harness harness.c
H=$T/harness
cd "$T"
rc_ref=0
within 60 "$H" child "$T/ref.out" 40 0 "$T/none.ctx" 0 || rc_ref=$?
[ "$rc_ref" -ge 3 ] && [ "$rc_ref" -lt 100 ] || fail "the uninterrupted worker exited $rc_ref"
[ "$(wc -l < "$T/ref.out")" = 40 ] || fail "the uninterrupted worker wrote $(wc -l < "$T/ref.out") lines"
within 120 "$H" run "$T/out" 40 15 "$T/w.ctx" > "$T/run.log" 2>&1 || fail "harness: $(cat "$T/run.log")"
[ "$(cat "$T/run.log")" = "status $rc_ref" ] || fail "harness said '$(cat "$T/run.log")', want 'status $rc_ref'"
same "$T/ref.out" "$T/out"
# its restart callback learnt the file the harness restarted it from
[ "$(cat "$T/out.src")" = "$(readlink -f "$T/w.ctx")" ] \
    || fail "cr_get_restart_info() says src '$(cat "$T/out.src")', not $T/w.ctx"

# a worker that led its session: with CR_RSTRT_RESTORE_SID it leads a new one, without
# it stays in the session of its new parent, as with BLCR
HARNESS_SETSID=1 HARNESS_FLAGS=8 within 120 "$H" run "$T/out.sid" 40 15 "$T/sid.ctx" > "$T/sid.log" 2>&1 \
    || fail "harness with RESTORE_SID: $(cat "$T/sid.log")"
[ "$(cat "$T/sid.log")" = "status $rc_ref" ] || fail "with RESTORE_SID the harness said '$(cat "$T/sid.log")'"
[ "$(cat "$T/out.sid.sid")" = leader ] || fail "with CR_RSTRT_RESTORE_SID the worker is a $(cat "$T/out.sid.sid")"
HARNESS_SETSID=1 within 120 "$H" run "$T/out.nosid" 40 15 "$T/nosid.ctx" > "$T/nosid.log" 2>&1 \
    || fail "harness without RESTORE_SID: $(cat "$T/nosid.log")"
[ "$(cat "$T/out.nosid.sid")" = member ] || fail "without CR_RSTRT_RESTORE_SID the worker is a $(cat "$T/out.nosid.sid")"

# BLCR's cr_fd may be a pipe: the harness fills it after the request (the library
# must not wait for it to end before the request returns)
HARNESS_PIPE=1 within 120 "$H" run "$T/out.pipe" 40 15 "$T/p.ctx" > "$T/pipe.log" 2>&1 \
    || fail "harness through a pipe: $(cat "$T/pipe.log")"
[ "$(cat "$T/pipe.log")" = "status $rc_ref" ] || fail "through a pipe, the harness said '$(cat "$T/pipe.log")'"
same "$T/ref.out" "$T/out.pipe"

# a caller that ignores SIGCHLD takes no children (its waitpid would block until all
# have ended): the restarted worker is left to cr_restart and runs to its end
HARNESS_IGNORE_CHLD=1 within 120 "$H" run "$T/out.ign" 40 15 "$T/i.ctx" > "$T/ign.log" 2>&1 \
    || fail "harness ignoring SIGCHLD: $(cat "$T/ign.log")"
[ "$(cat "$T/ign.log")" = "ended" ] || fail "ignoring SIGCHLD, the harness said '$(cat "$T/ign.log")'"
same "$T/ref.out" "$T/out.ign"

# checkpointed at its last step, the restarted worker has nothing left to do and may
# end before it is handed over: the harness still waits for a pid of its own that
# ends as the worker does
HARNESS_ANY_PID=1 within 120 "$H" run "$T/out.last" 40 40 "$T/l.ctx" > "$T/last.log" 2>&1 \
    || fail "harness, checkpoint at the end: $(cat "$T/last.log")"
[ "$(cat "$T/last.log")" = "status $rc_ref" ] || fail "checkpointed at the end, the harness said '$(cat "$T/last.log")'"
same "$T/ref.out" "$T/out.last"

# cr_signal: SIGTERM reaches the restarted process (which does not catch it) once it
# runs (it may be gone, its command line with it, when the harness looks: ANY_PID);
# SIGSTOP leaves it stopped for the harness, which lets it go on to the end
HARNESS_SIGNAL=15 HARNESS_ANY_PID=1 within 120 "$H" run "$T/out.term" 40 15 "$T/t.ctx" > "$T/term.log" 2>&1 \
    || fail "harness with SIGTERM: $(cat "$T/term.log")"
[ "$(cat "$T/term.log")" = "signal 15" ] || fail "with cr_signal SIGTERM the harness said '$(cat "$T/term.log")'"
HARNESS_SIGNAL=19 within 120 "$H" run "$T/out.stop" 40 15 "$T/s.ctx" > "$T/stop.log" 2>&1 \
    || fail "harness with SIGSTOP: $(cat "$T/stop.log")"
[ "$(tr '\n' ' ' < "$T/stop.log")" = "stopped status $rc_ref " ] \
    || fail "with cr_signal SIGSTOP the harness said '$(cat "$T/stop.log")'"
same "$T/ref.out" "$T/out.stop"

# a tree file (cr_checkpoint of a shell and its children): restored in cr_restart's
# pid namespace, the poll gives its root, which runs to its end (it is not the
# harness's child: libcr(3) says so)
mkdir "$T/tree"
cd "$T/tree"
# (the background sleep: at least two processes whenever the checkpoint comes)
bg "$CR_RUN" bash -c 'sleep 60 & for i in $(seq 1 60); do echo $i; sleep 0.05; done > out; kill $!; echo end' \
    > "$T/tree.out" 2> "$T/tree.err"
pid=$!
cd "$T"
wait_runtime $pid
wait_lines "$T/tree/out" 5
within 60 "$CR_CHECKPOINT" --kill -f "$T/tree.ctx" $pid 2> "$T/tree.ckpt.err" || fail "the tree checkpoint failed"
wait_gone $pid
"$CR_INFO" "$T/tree.ctx" | grep -Eq '^scope: +tree, [2-9] processes' || fail "not a tree: $("$CR_INFO" "$T/tree.ctx" | head -3)"
within 120 "$H" tree "$T/tree.ctx" > "$T/tree.log" 2>&1 || fail "harness tree: $(cat "$T/tree.log")"
[ "$(tr '\n' ' ' < "$T/tree.log")" = "root bash ended " ] || fail "harness tree said '$(cat "$T/tree.log")'"
[ "$(tail -n 1 "$T/tree/out")" = 60 ] || fail "the restored tree did not finish its loop: $(tail -n 2 "$T/tree/out")"

# a truncated context file: the API gives the errno cr_restart exits with, and its
# message (naming the file the caller opened)
head -c 3000 "$T/w.ctx" > "$T/bad.ctx"
rc_tool=0
within 60 "$CR_RESTART_PROG" "$T/bad.ctx" 2> "$T/tool.err" || rc_tool=$?
[ "$rc_tool" != 0 ] || fail "cr_restart accepted a truncated file"
within 60 "$H" fail "$T/bad.ctx" > "$T/fail.log" 2>&1 || fail "harness fail: $(cat "$T/fail.log")"
err=$(sed -n '1s/^errno //p' "$T/fail.log")
[ -n "$err" ] && [ $((err & 255)) = "$rc_tool" ] || fail "the API said errno '$err', cr_restart exits $rc_tool"
[ "$(sed -n 2p "$T/fail.log")" = "$(sed 's/^cr_restart: //' "$T/tool.err")" ] \
    || fail "the log '$(sed -n 2p "$T/fail.log")' is not cr_restart's message '$(cat "$T/tool.err")'"
pass
