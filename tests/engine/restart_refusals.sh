# cr_restart refuses, with a precise message and the errno as exit status, every
# context file it cannot or must not restart; no refusal crashes.
. "$top_srcdir/tests/engine/lib.sh"
mkdir "$T/bin" "$T/bin2"
cp "$PROGS/heapsum" "$T/bin/prog"
bg "$CR_RUN" "$T/bin/prog" 8 20 100 > "$T/out" 2> "$T/run.err"
pid=$!
wait_runtime $pid
wait_lines "$T/out" 2
within 30 "$CR_CHECKPOINT" --kill -f "$T/good.ctx" $pid || fail "checkpoint failed"
wait_gone $pid
"$CR_INFO" -q "$T/good.ctx" || fail "cr_info refuses the good file"
edited() { cp "$T/good.ctx" "$T/$1.ctx"; "$PROGS/ctxedit" "$T/$1.ctx" "$2" || fail "ctxedit $2"; }

expect_refusal 2 "cannot open .*missing.ctx: No such file" "$CR_RESTART" "$T/missing.ctx"
echo "just some text, long enough to hold a header if it were one" > "$T/text.ctx"
expect_refusal 22 "not a slurm-cr context file" "$CR_RESTART" "$T/text.ctx"
head -c 100000 "$T/good.ctx" > "$T/trunc.ctx"
expect_refusal 5 "truncated" "$CR_RESTART" "$T/trunc.ctx"
head -c 200 "$T/good.ctx" > "$T/trunc2.ctx"
expect_refusal 5 "truncated in the header" "$CR_RESTART" "$T/trunc2.ctx"
# one flipped byte in the metadata, and one in the memory data
cp "$T/good.ctx" "$T/flip.ctx"
printf '\x55' | dd of="$T/flip.ctx" bs=1 seek=700 conv=notrunc status=none
expect_refusal 74 "checksum mismatch in record" "$CR_RESTART" "$T/flip.ctx"
cp "$T/good.ctx" "$T/flipmem.ctx"
size=$(stat -c %s "$T/good.ctx")
printf '\x55' | dd of="$T/flipmem.ctx" bs=1 seek=$((size - 300000)) conv=notrunc status=none
expect_refusal 74 "checksum mismatch in memory block at 0x" "$CR_RESTART" "$T/flipmem.ctx"
expect_refusal 74 "checksum mismatch in memory block at 0x" "$CR_INFO" "$T/flipmem.ctx"
edited newer header.version=2
expect_refusal 95 "newer slurm-cr \(format version 2\)" "$CR_RESTART" "$T/newer.ctx"
edited arch header.arch=183
expect_refusal 8 "another architecture" "$CR_RESTART" "$T/arch.ctx"
edited vdso proc.vdso_crc=1
expect_refusal 8 "made on x86_64 kernel .*whose vdso differs" "$CR_RESTART" "$T/vdso.ctx"

# another user's file
if [ "$(id -u)" = 0 ]; then
    chmod 755 "$T"
    expect_refusal 1 "belongs to uid 0: only its owner or root" \
        setpriv --reuid=nobody --regid=nogroup --clear-groups "$CR_RESTART" "$T/good.ctx"
else
    edited other header.uid=0
    expect_refusal 1 "holds a process of uid 0" "$CR_RESTART" "$T/other.ctx"
    expect_refusal 1 "belongs to uid 0: only its owner or root" "$CR_RESTART" /etc/shadow
fi

# the executable changed, then vanished; a copy given with --relocate works
cp -p "$T/bin/prog" "$T/bin2/prog"
touch -d '2001-01-01' "$T/bin/prog"
expect_refusal 116 "the executable $T/bin/prog changed since the checkpoint" "$CR_RESTART" "$T/good.ctx"
rm "$T/bin/prog"
expect_refusal 2 "the executable $T/bin/prog is gone.*--relocate" "$CR_RESTART" "$T/good.ctx"
expect_refusal 22 "wants OLD=NEW" "$CR_RESTART" --relocate nonsense "$T/good.ctx"

# the hooks for failures get the errno; the one for success runs too
expect_refusal 0 "" "$CR_RESTART" --run-on-fail-env="echo env \$CR_RESTART_ERRNO > $T/hook" "$T/good.ctx"
[ "$(cat "$T/hook")" = "env 2" ] || fail "the --run-on-fail-env hook did not run with errno 2"
expect_refusal 0 "" "$CR_RESTART" --run-on-failure="echo perm \$CR_RESTART_ERRNO > $T/hook" "$T/flip.ctx"
[ "$(cat "$T/hook")" = "perm 74" ] || fail "the --run-on-failure hook did not run with errno 74"

within 60 "$PROGS/heapsum" 8 20 0 > "$T/ref"
truncate -s "$(fd_pos "$T/good.ctx" 1)" "$T/out"
# (the hook takes longer than the rest of the program: cr_restart waits for it)
within 60 "$CR_RESTART" --relocate "$T/bin=$T/bin2" --run-on-success="sleep 3; touch $T/success" "$T/good.ctx" \
    || fail "restart with --relocate failed"
same "$T/ref" "$T/out"
[ -e "$T/success" ] || fail "the --run-on-success hook did not run, or cr_restart did not wait for it"
pass
