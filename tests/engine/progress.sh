#!/bin/bash
# On a terminal, cr_checkpoint shows how far the file is written (once the work has
# lasted CR_PROGRESS_AFTER_MS, 1 s by default; 0 here) and clears the line at the end;
# not on a file or pipe, not with --quiet.
. "$top_srcdir/tests/engine/lib.sh"
command -v script > /dev/null || skip "script(1) (bsdutils) is not installed: no terminal to test with"
cd "$T"
bg "$CR_RUN" "$PROGS/heapsum" 64 40 100 > out 2> run.err
pid=$!
wait_runtime $pid
wait_lines out 2
export CR_PROGRESS_AFTER_MS=0
within 60 script -qec "'$CR_CHECKPOINT' --no-cow -f tty.ctx $pid" /dev/null > tty.out || fail "cr_checkpoint on a terminal failed: $(cat tty.out)"
grep -aEq "cr_checkpoint: written: [0-9.]+ (B|KiB|MiB|GiB) of about [0-9.]+ MiB, .*/s" tty.out ||
    fail "no progress line on the terminal: $(od -c tty.out | head)"
within 60 script -qec "'$CR_CHECKPOINT' --quiet --no-cow -f q.ctx $pid" /dev/null > q.out || fail "cr_checkpoint --quiet failed"
! grep -aq "written" q.out || fail "--quiet still shows progress"
within 60 "$CR_CHECKPOINT" --no-cow -f plain.ctx $pid 2> plain.err || fail "cr_checkpoint failed: $(cat plain.err)"
[ ! -s plain.err ] || fail "progress shown on a file: $(cat plain.err)"
"$CR_INFO" -q tty.ctx && "$CR_INFO" -q q.ctx && "$CR_INFO" -q plain.ctx || fail "a file is not valid"
pass
