# Thousands of randomly corrupted context files (flipped bits, truncations, inserted
# and swapped bytes): the reader refuses every one and never crashes; cr_restart too.
# First, that no kind of fd escapes the reader's checks.
. "$top_srcdir/tests/engine/lib.sh"
# every kind of fd checks its own records: a kind without a validator would let its
# records through unchecked
"$PROGS/kinds_complete" || fail "the table of fd kinds is incomplete"
bg "$CR_RUN" "$PROGS/heapsum" 2 100 50 > "$T/out" 2> "$T/run.err"
pid=$!
wait_runtime $pid
wait_lines "$T/out" 2
within 30 "$CR_CHECKPOINT" --kill -f "$T/good.ctx" $pid || fail "checkpoint failed"
wait_gone $pid
within 300 "$PROGS/fuzz_reader" "$T/good.ctx" "$T/bad.ctx" 3000 "${RANDOM}" || fail "the reader accepted a corrupt file"
# cr_restart on corrupted copies: a refusal with a message, never a crash or a hang
size=$(stat -c %s "$T/good.ctx")
for i in 1 2 3 4 5 6 7 8; do
    cp "$T/good.ctx" "$T/c.ctx"
    off=$(( (RANDOM * 32768 + RANDOM) % size ))
    printf "\\x$(printf %x $((RANDOM % 255 + 1)))" | dd of="$T/c.ctx" bs=1 seek=$off conv=notrunc status=none
    cmp -s "$T/good.ctx" "$T/c.ctx" && continue
    rc=0; within 30 "$CR_RESTART" "$T/c.ctx" > /dev/null 2> "$T/c.err" || rc=$?
    case $rc in
        5|22|74|95|8) grep -q "cr_restart: " "$T/c.err" || fail "no message for corruption at $off" ;;
        *) cat "$T/c.err" >&2; fail "cr_restart exited $rc on a file corrupted at $off" ;;
    esac
done
pass
