# EIO, as a failing disk gives it, while an image is written and while it is read
# (issue 15), injected without root by tests/engine/eio_inject.c preloaded into the
# program (the runtime writes its image) and into cr_restart (it reads it): the
# checkpoint fails with EIO (exit 5) and says so, the program runs on unharmed, the
# previous image is intact and restartable, no .tmp is left; a restart that cannot
# read its image fails with EIO, says so (not "truncated"), and starts nothing: in
# cr_restart's reader (the preload) and in the restorer that fills the memory
# (tests/engine/eio_seccomp.c).
. "$top_srcdir/tests/engine/lib.sh"
${CC:-cc} -shared -fPIC -O2 -Wall -Werror -o "$T/eio.so" "$top_srcdir/tests/engine/eio_inject.c" \
    > "$T/cc.log" 2>&1 || fail "eio_inject.c does not build: $(head -5 "$T/cc.log")"
within 120 "$PROGS/heapsum" 16 40 0 > "$T/ref" || fail "reference run failed"
# the images in a directory of their own: the file is written unnamed (O_TMPFILE, which
# /proc names "DIR/#INODE (deleted)") until it is complete
mkdir "$T/img"
export EIO_PATH="$T/img/" EIO_ARM="$T/armed" EIO_AFTER=1000000
bg env LD_PRELOAD="$T/eio.so" "$CR_RUN" "$PROGS/heapsum" 16 40 100 > "$T/out" 2> "$T/run.err"
pid=$!
wait_runtime $pid
wait_lines "$T/out" 2 60
within 60 "$CR_CHECKPOINT" -f "$T/img/x.ctx" $pid || fail "the first checkpoint failed"
cp "$T/img/x.ctx" "$T/previous.ctx"
wait_lines "$T/out" 4 60
touch "$T/armed" # the "disk" fails after 1 MB of the next image
rc=0; within 60 "$CR_CHECKPOINT" -f "$T/img/x.ctx" $pid 2> "$T/write.err" || rc=$?
rm "$T/armed"
[ $rc = 5 ] || fail "a checkpoint that met EIO exited $rc, not 5 (EIO): $(cat "$T/write.err")"
grep -q "Input/output error" "$T/write.err" || fail "the message does not name EIO: $(cat "$T/write.err")"
cmp -s "$T/img/x.ctx" "$T/previous.ctx" || fail "the previous image was harmed"
[ "$(ls "$T/img")" = x.ctx ] || fail "left behind: $(ls "$T/img")"
kill -0 $pid 2>/dev/null || fail "the program ended after the failed checkpoint: $(cat "$T/run.err")"
within 120 tail --pid=$pid -f /dev/null
wait $pid || fail "the program exited $? after the failed checkpoint: $(cat "$T/run.err")"
same "$T/ref" "$T/out"

# reading: in the header (0) and in the metadata that follows its 264 bytes (300);
# nothing may start.  (The memory blocks are read by the restorer with raw system
# calls, which a preload cannot fail: see below.)
for after in 0 300; do
    touch "$T/armed"
    rc=0; EIO_AFTER=$after LD_PRELOAD="$T/eio.so" within 60 "$CR_RESTART" "$T/img/x.ctx" 2> "$T/read.$after.err" || rc=$?
    rm "$T/armed"
    [ $rc = 5 ] || fail "a restart that met EIO after $after bytes exited $rc, not 5 (EIO): $(cat "$T/read.$after.err")"
    grep -q "Input/output error" "$T/read.$after.err" || fail "the message does not name EIO: $(cat "$T/read.$after.err")"
    ! grep -q "truncated" "$T/read.$after.err" || fail "a read error called a truncation: $(cat "$T/read.$after.err")"
    same "$T/ref" "$T/out"
done
# the memory blocks, read by the restorer with raw system calls: EIO from a seccomp
# filter on reads at 1 to 2 MiB into the file (past the metadata, before the trailer)
${CC:-cc} -O2 -Wall -Werror -o "$T/eio_seccomp" "$top_srcdir/tests/engine/eio_seccomp.c" \
    > "$T/cc2.log" 2>&1 || fail "eio_seccomp.c does not build: $(head -5 "$T/cc2.log")"
rc=0; within 60 "$T/eio_seccomp" pread64 1048576 2097152 "$CR_RESTART" "$T/img/x.ctx" 2> "$T/read.blocks.err" || rc=$?
[ $rc = 5 ] || fail "a restart whose memory could not be read exited $rc, not 5 (EIO): $(cat "$T/read.blocks.err")"
grep -q "memory block.*Input/output error" "$T/read.blocks.err" ||
    fail "the message does not name the memory block and EIO: $(cat "$T/read.blocks.err")"
same "$T/ref" "$T/out"
# and the compressed writer (raw pwrite64): a program whose uncompressed checkpoint
# (write) works and whose compressed one meets EIO past 64 KiB into the file
bg "$T/eio_seccomp" pwrite64 65536 4294967295 "$CR_RUN" "$PROGS/heapsum" 16 40 100 > "$T/out2" 2> "$T/run2.err"
pid=$!
wait_runtime $pid
wait_lines "$T/out2" 2 60
within 60 "$CR_CHECKPOINT" -f "$T/img/z.ctx" $pid || fail "the uncompressed checkpoint failed"
cp "$T/img/z.ctx" "$T/previous.z.ctx"
rc=0; within 60 "$CR_CHECKPOINT" --compress --no-verify -f "$T/img/z.ctx" $pid 2> "$T/zwrite.err" || rc=$?
[ $rc = 5 ] || fail "a compressed checkpoint that met EIO exited $rc, not 5 (EIO): $(cat "$T/zwrite.err")"
grep -q "Input/output error" "$T/zwrite.err" || fail "the message does not name EIO: $(cat "$T/zwrite.err")"
echo "compressed writer: $(cat "$T/zwrite.err")" >&2
cmp -s "$T/img/z.ctx" "$T/previous.z.ctx" || fail "the previous image was harmed by the compressed writer's EIO"
[ "$(ls "$T/img" | sort | tr '\n' ' ')" = "x.ctx z.ctx " ] || fail "left behind: $(ls "$T/img")"
within 120 tail --pid=$pid -f /dev/null
wait $pid || fail "the program exited $? after the failed compressed checkpoint: $(cat "$T/run2.err")"
same "$T/ref" "$T/out2"
# and the image is still good: restarted, it ends as the uninterrupted run did
within 120 "$CR_RESTART" "$T/img/x.ctx" 2> "$T/restart.err" || fail "the previous image does not restart: $(cat "$T/restart.err")"
same "$T/ref" "$T/out"
pass
