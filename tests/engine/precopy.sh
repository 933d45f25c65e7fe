# Pre-copy checkpoints (the default for a process that goes on, --no-precopy): a
# program that rewrites 256 MiB of pages without pause, drops a window of them and maps
# a region anew at the same address each round, is checkpointed while it writes; the
# image says it was pre-copied, and the program restarted from it finds every page as
# the state it saved says (each page's round against where the writer was: a page the
# pre-copy kept from before a later write would show).  The process that went on
# checks the same.  A checkpoint asked --no-precopy, and one of a process with a file
# open with O_DIRECT, are not pre-copied and say why with -v.  The reader refuses a
# pre-copied image whose blocks overlap or lie outside its data area.
. "$top_srcdir/tests/engine/lib.sh"
cd "$T"
mkdir a b
bg "$CR_RUN" "$PROGS/pcwriter" 256 "$T/a" > "$T/out" 2> "$T/err"
pid=$!
wait_lines "$T/out" 1 120
wait_runtime $pid
within 300 "$CR_CHECKPOINT" -v -f "$T/ctx" $pid 2> "$T/ckpt.err" ||
    { cat "$T/ckpt.err" >&2; fail "the checkpoint failed"; }
if grep -q "not pre-copied" "$T/ckpt.err"; then
    grep -Eq "asynchronous userfaultfd|PAGEMAP_SCAN|userfaultfd is not available" "$T/ckpt.err" &&
        { kill -9 $pid; skip "no write-protect tracking here: $(grep 'not pre-copied' "$T/ckpt.err")"; }
    cat "$T/ckpt.err" >&2; fail "the checkpoint was not pre-copied"
fi
"$CR_INFO" "$T/ctx" > "$T/info" || fail "cr_info refused the image"
grep -q "pre-copied: written while the process ran" "$T/info" || fail "cr_info does not say pre-copied"
# the reader's check of the layout: a block on another's bytes, one past the data
cp "$T/ctx" "$T/ctx.bad1" && cp "$T/ctx" "$T/ctx.bad2"
"$PROGS/ctxedit" "$T/ctx.bad1" block.overlap=2 || fail "ctxedit failed"
"$PROGS/ctxedit" "$T/ctx.bad2" block.outside=2 || fail "ctxedit failed"
expect_refusal 74 "share bytes of the file" "$CR_INFO" "$T/ctx.bad1"
expect_refusal 74 "is outside the data area" "$CR_INFO" "$T/ctx.bad2"
rm -f "$T/ctx.bad1" "$T/ctx.bad2"
within 300 "$CR_CHECKPOINT" -v --no-precopy -f "$T/ctx.plain" $pid 2> "$T/plain.err" ||
    { cat "$T/plain.err" >&2; fail "the checkpoint with --no-precopy failed"; }
"$CR_INFO" "$T/ctx.plain" | grep -q "pre-copied" && fail "--no-precopy pre-copied"
expect_refusal 22 "CR_PRECOPY=maybe: want yes, no or always" \
    env CR_PRECOPY=maybe "$CR_CHECKPOINT" -f "$T/ctx.x" $pid
touch "$T/a/check"
wait_gone $pid 300
grep -q "^verified" "$T/a/result" || { cat "$T/a/result" >&2; fail "the process that went on found its memory wrong"; }
rm "$T/a/result"

# the restarted program checks its memory against the state it was saved with (the
# file it waits for is there: it checks at once)
(cd / && within 300 "$CR_RESTART" "$T/ctx") > "$T/out2" 2> "$T/restart.err" ||
    { cat "$T/restart.err" "$T/out2" >&2; fail "the restarted program failed its check"; }
grep -q "^verified" "$T/a/result" || { cat "$T/a/result" >&2; fail "the restarted program did not check"; }
rm "$T/a/result"
(cd / && within 300 "$CR_RESTART" "$T/ctx.plain") > "$T/out3" 2> "$T/restart.err" ||
    { cat "$T/restart.err" "$T/out3" >&2; fail "the program restarted from --no-precopy failed"; }
grep -q "^verified" "$T/a/result" || { cat "$T/a/result" >&2; fail "the --no-precopy restart did not check"; }

# a file open with O_DIRECT: a read's DMA could land after the pass that saw the page
bg env PCWRITER_ODIRECT="$T/ctx.plain" "$CR_RUN" "$PROGS/pcwriter" 256 "$T/b" > "$T/out4"
pid=$!
wait_lines "$T/out4" 1 120
wait_runtime $pid
if grep -q "no O_DIRECT here" "$T/out4"; then
    echo "(this file system has no O_DIRECT: that case not tried)"
else
    within 300 "$CR_CHECKPOINT" -v -f "$T/ctx.direct" $pid 2> "$T/direct.err" ||
        { cat "$T/direct.err" >&2; fail "the checkpoint with O_DIRECT failed"; }
    grep -q "not pre-copied: fd [0-9]* is open with O_DIRECT" "$T/direct.err" ||
        { cat "$T/direct.err" >&2; fail "O_DIRECT: not said why it was not pre-copied"; }
    "$CR_INFO" "$T/ctx.direct" | grep -q "pre-copied" && fail "pre-copied with O_DIRECT open"
fi
touch "$T/b/check"
wait_gone $pid 300
grep -q "^verified" "$T/b/result" || { cat "$T/b/result" >&2; fail "the O_DIRECT run found its memory wrong"; }
pass
