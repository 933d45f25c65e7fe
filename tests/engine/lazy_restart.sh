# Lazy restart (cr_restart --lazy; doc/lazy-restart.md).  A program writes 64 MiB and
# four 8 MiB regions with a known pattern and is checkpointed; once restarted it
# forks, drops memory with MADV_DONTNEED, mremaps, lets the kernel read and write its
# memory and checks everything, all before touching any of it: the output must equal
# an uninterrupted run's.
#   - unprivileged (make check): --lazy is refused naming what it needs, and the
#     default restores eagerly, saying why with --kmsg-warning;
#   - as root (tests/root/lazy_restart.sh): lazy with the background copy off (every
#     page comes by a fault or an event), the image removed before the program reads
#     its memory; lazy by default with the background copy; a truncated image kills
#     the program with a message, never lets it read zeros, nor does cr_restart
#     killed with SIGKILL, nor a block damaged in the image (found by the filling
#     threads); a checkpoint taken while pages are missing saves them;
#     --eager still eager.
. "$top_srcdir/tests/engine/lib.sh"
P="$PROGS/lazy_mem"
touch "$T/go"
within 120 "$P" 64 "$T/go" > "$T/ref" || fail "reference run failed"
rm "$T/go"
cd "$T"
bg "$CR_RUN" "$P" 64 "$T/go" > "$T/out" 2> "$T/run.err"
pid=$!
wait_runtime $pid
wait_lines "$T/out" 1 60
within 120 "$CR_CHECKPOINT" --kill -f "$T/a.ctx" $pid 2> "$T/ckpt.err" || fail "checkpoint failed"
wait_gone $pid
pos=$(fd_pos "$T/a.ctx" 1)
[ -n "$pos" ] || fail "no stdout offset in a.ctx"
cp "$T/a.ctx" "$T/b.ctx"
cp "$T/a.ctx" "$T/c.ctx"
cp "$T/a.ctx" "$T/d.ctx"
cp "$T/a.ctx" "$T/e.ctx"
cp "$T/a.ctx" "$T/f.ctx"
cp "$T/a.ctx" "$T/h.ctx"

# restart CTX [cr_restart options]: in the background, the program stopped at its wait;
# sets $r (cr_restart) and $rp (the restored process)
restart() {
    local ctx=$1; shift
    truncate -s "$pos" "$T/out"
    rm -f "$T/go"
    "$CR_RESTART" --kmsg-warning "$@" "$ctx" 2> "$T/restart.err" &
    r=$!
    track $r
    rp=$(restored_pid $r)
}
finish() { # cr_restart's exit code in $rc
    touch "$T/go"
    rc=0
    wait $r || rc=$?
}
lazy_regions() { grep -c '^VmFlags:.* um' /proc/$1/smaps 2>/dev/null || true; }

if [ "$(id -u)" != 0 ]; then
    expect_refusal 1 "--lazy: .*CAP_SYS_PTRACE.*restart it with --eager" "$CR_RESTART" --lazy "$T/a.ctx"
    expect_refusal 22 "CR_RESTART_MODE=sometimes: want auto, eager or lazy" env CR_RESTART_MODE=sometimes "$CR_RESTART" "$T/a.ctx"
    restart "$T/a.ctx"
    [ "$(lazy_regions $rp)" = 0 ] || fail "an unprivileged restart registered memory for a lazy restart"
    finish
    [ $rc = 0 ] || fail "the eager restart exited $rc: $(cat "$T/restart.err")"
    grep -q "eager restart): .*CAP_SYS_PTRACE" "$T/restart.err" || fail "no word of the eager restart and why: $(cat "$T/restart.err")"
    same "$T/ref" "$T/out"
    pass
fi

# faults and events only: the image removed before the program reads its memory
CR_RESTART_LAZY_BACKGROUND=0 restart "$T/a.ctx" --lazy
n=$(lazy_regions $rp)
[ "$n" -ge 1 ] || fail "no region registered for the lazy restart"
rm "$T/a.ctx"
finish
[ $rc = 0 ] || fail "the lazy restart exited $rc: $(cat "$T/restart.err")"
same "$T/ref" "$T/out"
grep -Eq "lazy restart: [0-9]+ MiB .*\(([1-9][0-9]*) faults, [1-9][0-9]* forks" "$T/restart.err" ||
    fail "no summary of faults and forks: $(cat "$T/restart.err")"

# the default: lazy, the rest copied in the background (root's default is the old pid,
# as BLCR's, which comes back eagerly through the tree path: without it, lazy)
restart "$T/b.ctx" --no-restore-pid
finish
[ $rc = 0 ] || fail "the default restart exited $rc: $(cat "$T/restart.err")"
same "$T/ref" "$T/out"
grep -q "lazy restart: " "$T/restart.err" || fail "the default restart was not lazy: $(cat "$T/restart.err")"

# the image truncated under a lazy restart: killed with the reason, never zeros
CR_RESTART_LAZY_BACKGROUND=0 restart "$T/c.ctx" --lazy
truncate -s 4096 "$T/c.ctx"
finish
[ $rc != 0 ] || fail "a restart whose image was truncated under it ended well"
grep -q "truncated.*the restarted process was killed" "$T/restart.err" || fail "no reason given: $(cat "$T/restart.err")"
grep -q "^memory:" "$T/out" && fail "the program read its memory from a truncated image: $(cat "$T/out")"

# a block damaged in the image, the background copy on: the filling threads reach it
# while the program waits (it is never let go): killed with the reason, never run on
python3 - "$T/h.ctx" <<'EOF' || fail "page 100 of the big region not found in the image"
import struct, sys
K1, K2 = 0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F
first = struct.pack('<Q', (1 << 56) ^ (100 * K1 % 2**64) ^ K2)  # lazy_mem.c's word(1, 100, 0)
data = open(sys.argv[1], 'rb').read()
at = data.find(first)
if at < 0 or at % 4096:
    sys.exit(1)
with open(sys.argv[1], 'r+b') as f:
    f.seek(at + 8)
    f.write(bytes([data[at + 8] ^ 0xff]))
EOF
truncate -s "$pos" "$T/out" # (not restart: the process may be gone before it is seen)
rm -f "$T/go"
"$CR_RESTART" --kmsg-warning --lazy "$T/h.ctx" 2> "$T/restart.err" &
r=$!
track $r
i=0
while kill -0 $r 2>/dev/null && [ "$(awk '{print $3}' /proc/$r/stat 2>/dev/null)" != Z ]; do
    i=$((i + 1)); [ $i -le 2400 ] || fail "the lazy restart of a damaged image did not end in 120 s"
    sleep 0.05
done
rc=0
wait $r || rc=$?
[ $rc != 0 ] || fail "a restart whose image has a damaged block ended well"
grep -q "checksum mismatch in the memory block.*the restarted process was killed" "$T/restart.err" ||
    fail "no reason given for the damaged block: $(cat "$T/restart.err")"
grep -q "^fork:" "$T/out" && fail "the program ran on from a damaged image: $(cat "$T/out")"

# cr_restart killed (SIGKILL) before the fill is done: its keeper kills the process,
# whose faults wait meanwhile; it never goes on with zeros
CR_RESTART_LAZY_BACKGROUND=0 restart "$T/e.ctx" --lazy
kill -9 $r
wait $r 2>/dev/null || true
touch "$T/go"
wait_gone $rp 30
grep -q "^fork:" "$T/out" && fail "the program ran on after cr_restart was killed: $(cat "$T/out")"
grep -q "ended while its lazy restart still filled memory: the restarted process was killed" "$T/restart.err" ||
    fail "no word from the keeper: $(cat "$T/restart.err")"

# checkpointed again before it touched its memory: the pages still missing are saved
# (brought in first), not taken for pages never written
CR_RESTART_LAZY_BACKGROUND=0 restart "$T/f.ctx" --lazy
within 120 "$CR_CHECKPOINT" --kill -f "$T/g.ctx" $rp 2> "$T/ckpt.err" || fail "checkpoint of the lazily restored process failed"
wait $r 2>/dev/null || true
restart "$T/g.ctx" --eager
finish
[ $rc = 0 ] || fail "the restart of the checkpoint taken during a lazy fill exited $rc: $(cat "$T/restart.err")"
same "$T/ref" "$T/out"

# --eager: nothing registered, the same output
restart "$T/d.ctx" --eager
[ "$(lazy_regions $rp)" = 0 ] || fail "--eager registered memory"
finish
[ $rc = 0 ] || fail "the eager restart exited $rc: $(cat "$T/restart.err")"
same "$T/ref" "$T/out"
grep -q "eager restart): --eager" "$T/restart.err" || fail "no word of the eager restart: $(cat "$T/restart.err")"
pass
