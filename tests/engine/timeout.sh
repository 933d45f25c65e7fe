# A process stopped by SIGSTOP before its checkpoint is saved as it is (held through
# ptrace while its runtime works, stopped_hold.c) and stays stopped; continued, it
# finishes with the output of an uninterrupted run.  One stopped in the middle of its
# checkpoint makes the requester give up within -t, and goes on when continued.
. "$top_srcdir/tests/engine/lib.sh"
within 60 "$PROGS/heapsum" 8 30 0 > "$T/ref"
bg "$CR_RUN" "$PROGS/heapsum" 8 30 100 > "$T/out" 2> "$T/run.err"
pid=$!
wait_runtime $pid
wait_lines "$T/out" 2
kill -STOP $pid
i=0; until [ "$(awk '{print $3}' /proc/$pid/stat)" = T ]; do i=$((i + 1)); [ $i -le 600 ] || fail "SIGSTOP did not stop $pid"; sleep 0.01; done
within 60 "$CR_CHECKPOINT" -t 5 -f "$T/x.ctx" $pid 2> "$T/x.err" || fail "the checkpoint of a stopped process failed: $(cat "$T/x.err")"
[ "$(awk '{print $3}' /proc/$pid/stat)" = T ] || fail "the checkpoint continued the stopped process"
kill -CONT $pid
within 30 "$CR_CHECKPOINT" -t 5 -f "$T/y.ctx" $pid || fail "checkpoint after SIGCONT failed"
wait_gone $pid 60
same "$T/ref" "$T/out"

# stopped while it writes itself (--no-cow, into a FIFO nobody reads yet)
bg "$CR_RUN" "$PROGS/heapsum" 8 30 100 > "$T/out3" 2> "$T/run3.err"
pid=$!
wait_runtime $pid
wait_lines "$T/out3" 2
mkfifo "$T/slow"
( exec 3< "$T/slow"; while [ ! -e "$T/go" ]; do sleep 0.05; done; cat <&3 > /dev/null ) &
reader=$!
track $reader
"$CR_CHECKPOINT" --no-cow -t 2 -F 4 $pid 4> "$T/slow" 2> "$T/stopped.err" &
ck=$!
track $ck
# its manager thread blocks in write(2) once the FIFO is full
i=0; until grep -qs '^1 ' /proc/$pid/task/*/syscall; do
    i=$((i + 1)); [ $i -le 600 ] || fail "the checkpoint never reached its write"; sleep 0.05
done
kill -STOP $pid
start=$(date +%s%N)
i=0; while kill -0 $ck 2>/dev/null; do
    i=$((i + 1)); [ $i -le 600 ] || fail "cr_checkpoint still waits for a stopped process after 30 s"; sleep 0.05
done
wait $ck; rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$rc" = 110 ] || { cat "$T/stopped.err" >&2; fail "stopped during its checkpoint: exit $rc, not 110 (ETIMEDOUT)"; }
grep -q "was stopped (SIGSTOP) during the checkpoint.*kill -CONT $pid" "$T/stopped.err" ||
    fail "the message does not say the process was stopped: $(cat "$T/stopped.err")"
[ "$ms" -lt 15000 ] || fail "the requester gave up after $ms ms, not within -t 2"
touch "$T/go"
kill -CONT $pid
wait_gone $pid 60
same "$T/ref" "$T/out3"

# a thread that never takes the checkpoint signal: -t gives up, the process goes on
within 60 "$PROGS/blocker" 30 > "$T/ref2"
bg "$CR_RUN" "$PROGS/blocker" 30 > "$T/out2" 2> "$T/run2.err"
pid=$!
wait_runtime $pid
wait_lines "$T/out2" 2
expect_refusal 110 "thread [0-9]+ did not stop within 1000 ms .*keeps running" \
    "$CR_CHECKPOINT" -t 1 -f "$T/z.ctx" $pid
[ ! -e "$T/z.ctx" ] && [ ! -e "$T/z.ctx.tmp" ] || fail "a file was left"
wait_gone $pid 60
same "$T/ref2" "$T/out2"
pass
