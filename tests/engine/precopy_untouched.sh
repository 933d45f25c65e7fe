# Pre-copy checkpoints leave memory the program never touched out of the image: the
# write protection puts a marker in each empty page entry of a registered region,
# which the page map reports as swapped; without a swap area such pages are left
# out (holes that restart as zeros) instead of saved as pages of zeros.  A program
# maps 512 MiB and writes one MiB of four; the image holds about what it wrote.  Its
# checkpoint callback, after the passes took the page map and right before the
# freeze, writes a page in each untouched MiB and drops one of every 64th MiB (the
# stop walks again what was written since: the new pages must be in the image); after
# the checkpoint it writes another page in each untouched MiB; it checks every page,
# and so does its restarted copy (written pages as written, the rest zeros).
. "$top_srcdir/tests/engine/lib.sh"
cd "$T"
mkdir d
bg "$CR_RUN" "$PROGS/untouched" 512 "$T/d" > "$T/out" 2> "$T/err"
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
size=$(stat -c %s "$T/ctx")
if [ "$(wc -l < /proc/swaps)" -gt 1 ]; then
    echo "(a swap area is in use: markers are kept as pages, the image's size not checked)"
elif [ "$size" -gt $((200 * 1024 * 1024)) ]; then
    fail "the image holds $size bytes for 128 MiB written: untouched memory was saved"
fi
touch "$T/d/go"
wait_lines "$T/out" 2 120
touch "$T/d/check"
wait_gone $pid 300
grep -q "^verified" "$T/d/result" || { cat "$T/d/result" >&2; fail "the process that went on found its memory wrong"; }
rm "$T/d/result"
# (go and check are there: the restarted copy writes, then checks at once)
(cd / && within 300 "$CR_RESTART" "$T/ctx") > "$T/out2" 2> "$T/restart.err" ||
    { cat "$T/restart.err" "$T/d/result" >&2; fail "the restarted program failed its check"; }
grep -q "^verified" "$T/d/result" || { cat "$T/d/result" >&2; fail "the restarted program did not check"; }
pass
