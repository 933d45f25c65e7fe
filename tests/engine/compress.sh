# Compressed checkpoints (--compress, CR_COMPRESS): a program holding each kind of
# memory (smooth doubles, a sparse matrix, written zeros, random bytes, random and zero
# pages in turn) checkpointed while it runs (copy-on-write, stopped, killed), each
# image restarted and its output compared with an uninterrupted run; random data that
# does not shrink is stored raw (no bigger than an uncompressed image); cr_info shows
# the ratio; a damaged compressed block is refused naming it, its stored bytes'
# checksum or, forged, the memory's; a tree compressed; a pipe as destination and a
# full filesystem (ENOSPC) refused clearly, the process unharmed.
. "$top_srcdir/tests/engine/lib.sh"
CTXEDIT=$top_builddir/tests/programs/ctxedit
prog="$PROGS/datakinds 8 10 150"
cd "$T"
within 120 $prog > "$T/ref" || fail "reference run failed"
bg "$CR_RUN" $prog > "$T/out" 2> "$T/run.err"
pid=$!
wait_runtime $pid
for point in a:2 b:4 c:6; do
    name=${point%%:*}
    wait_lines "$T/out" ${point#*:} 60
    # a: copy-on-write, the default level, from the environment; b: stopped until
    # written, level 3; c: then killed, level 19 (a static context that large works)
    case $name in
        a) within 120 env CR_COMPRESS=yes "$CR_CHECKPOINT" -f "$T/a.ctx" $pid 2> "$T/ckpt.err" ;;
        b) within 120 "$CR_CHECKPOINT" --no-cow --compress=3 -f "$T/b.ctx" $pid 2> "$T/ckpt.err" ;;
        c) within 120 "$CR_CHECKPOINT" --compress=19 --kill -f "$T/c.ctx" $pid 2> "$T/ckpt.err" ;;
    esac || { cat "$T/ckpt.err" >&2; fail "compressed checkpoint $name failed"; }
done
wait_gone $pid
for name in a b c; do
    "$CR_INFO" "$T/$name.ctx" > "$T/$name.info" || fail "cr_info refuses $name.ctx"
    grep -q "valid: every record and memory block checksum matches" "$T/$name.info" ||
        fail "$name.ctx not validated"
    ratio=$(sed -n 's/.*compressed (zstd): .* ratio \([0-9.]*\);.*/\1/p' "$T/$name.info")
    [ -n "$ratio" ] || fail "cr_info does not show the compression of $name.ctx"
    # doubles, sparse and zeros shrink, random does not: 3 of 5 parts at least halve
    awk -v r="$ratio" 'BEGIN { exit !(r > 1.4) }' || fail "$name.ctx: ratio $ratio only"
    pos=$(fd_pos "$T/$name.ctx" 1)
    [ -n "$pos" ] || fail "no stdout offset in $name.ctx"
    truncate -s "$pos" "$T/out"
    within 120 "$CR_RESTART" "$T/$name.ctx" 2> "$T/restart.err" ||
        { cat "$T/restart.err" >&2; fail "restart from $name.ctx failed"; }
    same "$T/ref" "$T/out"
done
"$CR_INFO" --json "$T/a.ctx" | grep -q '"compression":{"method":"zstd","stored":[0-9]*,"ratio":[0-9.]*' ||
    fail "cr_info --json does not show the compression"

# random data: stored raw, never bigger than without compression
bg "$CR_RUN" "$PROGS/datakinds" 8 200 100 random > "$T/rnd.out" 2> "$T/rnd.err"
pid=$!
wait_runtime $pid
wait_lines "$T/rnd.out" 2 60
within 60 "$CR_CHECKPOINT" -f "$T/raw.ctx" $pid || fail "plain checkpoint of random data failed"
within 60 "$CR_CHECKPOINT" --compress -f "$T/rz.ctx" $pid || fail "compressed checkpoint of random data failed"
# the environment's choice is overridden by --no-compress
within 60 env CR_COMPRESS=5 "$CR_CHECKPOINT" --no-compress -f "$T/nz.ctx" $pid || fail "--no-compress failed"
"$CR_INFO" "$T/nz.ctx" | grep -q "compressed (zstd)" && fail "--no-compress compressed"
# libcr's cr_request_checkpoint() follows CR_COMPRESS too
within 60 env CR_COMPRESS=3 "$PROGS/api_request" $pid "$T/api.ctx" proc > "$T/api.log" ||
    fail "the libcr request failed: $(cat "$T/api.log")"
"$CR_INFO" "$T/api.ctx" | grep -q "compressed (zstd)" || fail "CR_COMPRESS did not reach cr_request_checkpoint"
# a bad level is refused before anything happens
expect_refusal 22 "CR_COMPRESS=fast: want a zstd level from 1 to 22" env CR_COMPRESS=fast "$CR_CHECKPOINT" -f "$T/x.ctx" $pid
expect_refusal 22 "--compress=23: want a zstd level" "$CR_CHECKPOINT" --compress=23 -f "$T/x.ctx" $pid
# a pipe cannot take a file written in pieces: refused, the process unharmed
rc=0; within 60 "$CR_CHECKPOINT" --compress -F 9 $pid 9> >(cat > /dev/null) 2> "$T/pipe.err" || rc=$?
[ $rc = 29 ] || { cat "$T/pipe.err" >&2; fail "--compress to a pipe exited $rc, expected ESPIPE (29)"; }
grep -q "destination must be a file" "$T/pipe.err" || { cat "$T/pipe.err" >&2; fail "no clear message for a pipe"; }
kill -0 $pid || fail "the process died of a refused checkpoint"
# a full filesystem: ENOSPC from a writer thread, said as such, the previous file kept
ns="unshare -m"; [ "$(id -u)" = 0 ] || ns="unshare -r -m"
if $ns true 2>/dev/null; then
    mkdir "$T/small"
    cat > "$T/full.sh" <<SH
set -e
mount -t tmpfs -o size=4m tmpfs "$T/small"
echo previous > "$T/small/x.ctx"
rc=0; "$CR_CHECKPOINT" --compress -f "$T/small/x.ctx" $pid 2> "$T/full.err" || rc=\$?
echo \$rc > "$T/rc"
cat "$T/small/x.ctx" > "$T/after"
SH
    within 60 $ns sh "$T/full.sh" || fail "the tmpfs script failed"
    [ "$(cat "$T/rc")" = 28 ] || { cat "$T/full.err" >&2; fail "exit status $(cat "$T/rc"), not 28 (ENOSPC)"; }
    grep -q "No space left on device" "$T/full.err" || fail "the message does not say ENOSPC"
    [ "$(cat "$T/after")" = previous ] || fail "the previous checkpoint was harmed"
    kill -0 $pid || fail "the process died of a failed compressed checkpoint"
fi
kill $pid
wait_gone $pid
raw=$(stat -c %s "$T/raw.ctx") rz=$(stat -c %s "$T/rz.ctx")
[ "$rz" -le "$raw" ] || fail "compressed random data takes $rz bytes, uncompressed $raw"
# (random data: its blocks all stored raw, but the runtime's own memory shrinks)
"$CR_INFO" "$T/rz.ctx" | grep -Eq "compressed \(zstd\): .* [0-9]+ of [0-9]+ blocks" || fail "no ratio for rz.ctx"

# damage: flipped bytes in a compressed block; the same with its checksum forged
for how in stored forge; do
    cp "$T/c.ctx" "$T/$how.ctx"
    addr=$("$CTXEDIT" "$T/$how.ctx" zblock.$how=2) || fail "ctxedit zblock.$how failed"
    rc=0; "$CR_INFO" "$T/$how.ctx" > /dev/null 2> "$T/$how.info.err" || rc=$?
    [ $rc = 74 ] || { cat "$T/$how.info.err" >&2; fail "cr_info on a damaged block ($how) exited $rc"; }
    case $how in
        stored) re="checksum mismatch in the compressed bytes of the memory block at $addr" ;;
        forge) re="block .*at $addr.*(does not decompress|after decompression)" ;;
    esac
    grep -Eq "$re" "$T/$how.info.err" || { cat "$T/$how.info.err" >&2; fail "cr_info did not name the damage ($how)"; }
    expect_refusal 74 "$re" "$CR_RESTART" "$T/$how.ctx"
done
# blocks put back before the restorer runs, possibly by another process of a tree (a
# memfd shared with a child, System V segments): read from compressed images too
# (-k: the runs it keeps, a KNOWN one's as any, in this test's directory, not in /tmp)
within 300 env CR_COMPRESS=1 "$top_srcdir/tests/conformance/run.sh" -k "$T/conformance" -m restart,cow memfd_child \
    memfd_mapped sysv_shm sysv_shm_child deleted_rdwr deleted_two_opens > "$T/conf.log" 2>&1 ||
    { cat "$T/conf.log" >&2; fail "conformance programs fail with compressed images"; }
# the reader refuses every random corruption of a compressed image without crashing
within 300 "$PROGS/fuzz_reader" "$T/c.ctx" "$T/fuzzed.ctx" 1000 "${RANDOM}" ||
    fail "the reader accepted a corrupt compressed file"

# a tree: a shell and the program, compressed together into one tree file
mkdir -p "$T/tree"
cd "$T/tree"
within 120 sh -c "$PROGS/datakinds 4 8 150; echo end" > "$T/tree.ref" || fail "tree reference run failed"
bg "$CR_RUN" sh -c "$PROGS/datakinds 4 8 150; echo end" > "$T/tree.out" 2> "$T/tree.err"
pid=$!
wait_runtime $pid
wait_lines "$T/tree.out" 3 60
within 120 "$CR_CHECKPOINT" --compress --kill -f "$T/tree.ctx" $pid 2> "$T/tree.ckpt.err" ||
    { cat "$T/tree.ckpt.err" >&2; fail "compressed tree checkpoint failed"; }
wait_gone $pid
"$CR_INFO" "$T/tree.ctx" > "$T/tree.info" || fail "cr_info refuses the compressed tree"
grep -q "^scope:    tree" "$T/tree.info" || fail "not a tree file"
[ "$(grep -c "compressed (zstd)" "$T/tree.info")" -ge 2 ] || fail "the tree's images are not both compressed"
within 120 "$CR_RESTART" "$T/tree.ctx" >> "$T/tree.out" 2> "$T/tree.restart.err" ||
    { cat "$T/tree.restart.err" >&2; fail "restart of the compressed tree failed"; }
same "$T/tree.ref" "$T/tree.out"
pass
