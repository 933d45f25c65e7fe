# cr_checkpoint refuses what it must, with the errno as exit status, and a refused or
# failed checkpoint leaves the process running unharmed.
. "$top_srcdir/tests/engine/lib.sh"
within 60 "$PROGS/heapsum" 16 40 0 > "$T/ref"
bg "$CR_RUN" "$PROGS/heapsum" 16 40 100 > "$T/out" 2> "$T/run.err"
pid=$!
wait_runtime $pid
wait_lines "$T/out" 2

expect_refusal 3 "no process 999999999" "$CR_CHECKPOINT" 999999999
expect_refusal 22 "is not a process id" "$CR_CHECKPOINT" abc
bg sleep 60
plain=$!
expect_refusal 95 "process $plain is not running under cr_run .*cr_run PROGRAM" "$CR_CHECKPOINT" $plain
if [ "$(id -u)" = 0 ]; then
    chmod 755 "$T"
    expect_refusal 1 "belongs to uid 0: only its owner or root" \
        setpriv --reuid=nobody --regid=nogroup --clear-groups "$CR_CHECKPOINT" -f /tmp/x.ctx $pid
else
    expect_refusal 1 "process 1 belongs to uid 0: only its owner or root" "$CR_CHECKPOINT" 1
    mkdir "$T/ro" && chmod 555 "$T/ro"
    expect_refusal 13 "cannot create $T/ro/x.ctx.tmp: Permission denied" "$CR_CHECKPOINT" -f "$T/ro/x.ctx" $pid
fi
expect_refusal 2 "cannot create $T/nodir/x.ctx: the directory $T/nodir: No such file" "$CR_CHECKPOINT" -f "$T/nodir/x.ctx" $pid
touch "$T/plainfile"
expect_refusal 20 "Not a directory" "$CR_CHECKPOINT" -f "$T/plainfile/x.ctx" $pid
# a full device: ENOSPC as such, the process keeps going
expect_refusal 28 "failed: writing .*No space left on device" "$CR_CHECKPOINT" -F 3 $pid 3>/dev/full
expect_refusal 9 "not an open file descriptor" "$CR_CHECKPOINT" -F 9 $pid

# a directory as FILE is refused before anything is written
mkdir "$T/adir"
expect_refusal 21 "adir is a directory: name a file in it" "$CR_CHECKPOINT" -f "$T/adir" $pid
[ -z "$(ls "$T/adir")" ] || fail "something was written into the directory: $(ls "$T/adir")"

# replacing an existing file: --noclobber, --backup, --clobber, atomic by default
echo old > "$T/c.ctx"
expect_refusal 17 "exists \(--noclobber\)" "$CR_CHECKPOINT" --noclobber -f "$T/c.ctx" $pid
[ "$(cat "$T/c.ctx")" = old ] || fail "--noclobber touched the file"
within 30 "$CR_CHECKPOINT" --backup -f "$T/c.ctx" $pid || fail "--backup failed"
[ "$(cat "$T/c.ctx.~1~")" = old ] || fail "--backup did not keep the old file as c.ctx.~1~ (BLCR's name)"
"$CR_INFO" -q "$T/c.ctx" || fail "--backup wrote an invalid file"
echo "a longer old file that clobbering must overwrite entirely" > "$T/d.ctx"
within 30 "$CR_CHECKPOINT" --clobber -f "$T/d.ctx" $pid || fail "--clobber failed"
"$CR_INFO" -q "$T/d.ctx" || fail "--clobber did not overwrite the file"
[ ! -e "$T/c.ctx.tmp" ] && [ ! -e "$T/d.ctx.tmp" ] || fail "a temporary file was left"
(cd "$T" && within 30 "$CR_CHECKPOINT" $pid) || fail "checkpoint to the default name failed"
"$CR_INFO" -q "$T/context.$pid" || fail "context.$pid is not valid"

# stopped by a debugger (state t): refused at once, the process goes on when it lets go
if command -v gdb > /dev/null; then
    gdb -q -p $pid -batch -ex 'shell sleep 3' > "$T/gdb.out" 2>&1 &
    gdbpid=$!
    for i in $(seq 100); do [ "$(awk '{print $3}' /proc/$pid/stat)" = t ] && break; sleep 0.05; done
    if [ "$(awk '{print $3}' /proc/$pid/stat)" = t ]; then
        expect_refusal 16 "process $pid is stopped by its tracer .*detach the tracer" \
            "$CR_CHECKPOINT" -t 2 -f "$T/traced.ctx" $pid
        [ ! -e "$T/traced.ctx" ] || fail "a refused checkpoint left a file"
    else
        echo "gdb could not attach here: the traced part is left out"
    fi
    wait $gdbpid
fi

wait_gone $pid 60
same "$T/ref" "$T/out"

# a directory watched with dnotify (fcntl F_NOTIFY, DN_MULTISHOT, through libc: the
# runtime records it) is saved now, and the program's watch keeps working after the
# checkpoint (the conformance program dnotify_watch checks it after a restart)
bg "$CR_RUN" "$top_builddir/tests/conformance/dnotify_watch" < /dev/null > "$T/dn.out" 2> "$T/dn.err"
dn=$!
wait_runtime $dn
wait_lines "$T/dn.out" 1
within 60 "$CR_CHECKPOINT" -f "$T/dn.ctx" $dn 2> "$T/dn.ckpt.err" || fail "the checkpoint of a dnotify watch failed: $(cat "$T/dn.ckpt.err")"
kill -USR2 $dn
wait_gone $dn 60
[ "$(tail -n 1 "$T/dn.out")" = PASS ] || fail "the dnotify program after its checkpoint: $(tail -n 1 "$T/dn.out")"
pass
