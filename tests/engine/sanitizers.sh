# The engine's ordinary code built with AddressSanitizer and UBSan (the tools, the
# reader, restart preparation) and UBSan (the runtime; AddressSanitizer's shadow
# memory cannot live in a preloaded library): a checkpoint, cr_info on good and
# corrupt files, the reader's fuzzing and a restart all run clean.  The restorer is
# freestanding and is never instrumented.
. "$top_srcdir/tests/engine/lib.sh"
S=$T/san
mkdir "$S"
cd "$S"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
within 300 "$top_srcdir/configure" -q CFLAGS="-O1 -g" > configure.log 2>&1 || fail "configure failed"
within 600 make -j2 libcr/libcr_run.la CFLAGS="-O1 -g -fsanitize=undefined -fno-sanitize-recover=undefined" \
    LDFLAGS="-fsanitize=undefined" > build.log 2>&1 || fail "the UBSan runtime does not build"
within 600 make -j2 util/cr_checkpoint util/cr_restart util/cr_info tests/programs/fuzz_reader \
    CFLAGS="-O1 -g $SAN" LDFLAGS="$SAN" >> build.log 2>&1 || fail "the sanitized tools do not build"
export ASAN_OPTIONS=abort_on_error=0:exitcode=99 UBSAN_OPTIONS=print_stacktrace=1:exitcode=98
export CR_RUN_LIB=$S/libcr/.libs/libcr_run.so
cd "$T"
within 60 "$PROGS/heapsum" 16 20 0 > "$T/ref"
bg "$BIN/cr_run" "$PROGS/heapsum" 16 20 100 > "$T/out" 2> "$T/run.err"
pid=$!
wait_runtime $pid
wait_lines "$T/out" 3
within 60 "$S/util/cr_checkpoint" --kill -f "$T/s.ctx" $pid 2> "$T/ckpt.err" || { cat "$T/ckpt.err" >&2; fail "sanitized cr_checkpoint failed"; }
wait_gone $pid
grep -q "runtime error" "$T/run.err" && { cat "$T/run.err" >&2; fail "UBSan found undefined behaviour in the runtime"; }
within 60 "$S/util/cr_info" "$T/s.ctx" > "$T/info.out" 2> "$T/info.err" || { cat "$T/info.err" >&2; fail "sanitized cr_info failed"; }
cp "$T/s.ctx" "$T/bad.ctx"
printf '\x55' | dd of="$T/bad.ctx" bs=1 seek=900 conv=notrunc status=none
rc=0; within 60 "$S/util/cr_info" "$T/bad.ctx" > /dev/null 2> "$T/bad.err" || rc=$?
[ $rc = 74 ] || { cat "$T/bad.err" >&2; fail "sanitized cr_info on a corrupt file exited $rc"; }
within 300 "$S/tests/programs/fuzz_reader" "$T/s.ctx" "$T/fuzz.ctx" 400 7 > "$T/fuzz.out" 2>&1 \
    || { tail -n 30 "$T/fuzz.out" >&2; fail "the sanitized reader failed under fuzzing"; }
# a timerfd's record follows a path and is not aligned: read it as such
bg "$BIN/cr_run" "$PROGS/timers" > "$T/timers.out" 2> "$T/timers.err"
tpid=$!
wait_runtime $tpid
wait_lines "$T/timers.out" 3
within 60 "$S/util/cr_checkpoint" --kill -f "$T/t.ctx" $tpid 2> "$T/tckpt.err" || { cat "$T/tckpt.err" >&2; fail "sanitized cr_checkpoint of a timerfd failed"; }
wait_gone $tpid
within 60 "$S/util/cr_info" "$T/t.ctx" > "$T/tinfo.out" 2> "$T/tinfo.err" || { cat "$T/tinfo.err" >&2; fail "sanitized cr_info failed on a timerfd"; }
grep -q "timerfd .*every 0.030000000 s" "$T/tinfo.out" || fail "cr_info does not show the timerfd"
truncate -s "$(fd_pos "$T/s.ctx" 1)" "$T/out"
within 60 "$S/util/cr_restart" "$T/s.ctx" 2> "$T/restart.err" || { cat "$T/restart.err" >&2; fail "sanitized cr_restart failed"; }
same "$T/ref" "$T/out"
pass
