# A socket with an eBPF program attached (SO_ATTACH_BPF), which cannot be read back: the
# checkpoint is refused by name (never a restart without the filter), and the program
# goes on with its filter.  Root: loading an eBPF program needs CAP_BPF.
. "$top_srcdir/tests/engine/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root (loading an eBPF program needs CAP_BPF)"
bg "$CR_RUN" "$PROGS/ebpf_filtered" < /dev/null > "$T/out" 2> "$T/err"
pid=$!
i=0
until grep -qx READY "$T/out"; do
    grep -q NOBPF "$T/out" && skip "no eBPF here: $(cat "$T/out")"
    kill -0 $pid 2>/dev/null || fail "the program ended: $(cat "$T/out" "$T/err")"
    i=$((i + 1)); [ $i -le 600 ] || fail "no READY within 30 s"
    sleep 0.05
done
wait_runtime $pid
expect_refusal 95 "fd [0-9]+ is a socket with an eBPF program attached \(SO_ATTACH_BPF\), which the kernel cannot give back" \
    "$CR_CHECKPOINT" -f "$T/x.ctx" $pid
[ ! -e "$T/x.ctx" ] || fail "a refused checkpoint left a file"
kill -USR2 $pid
wait_gone $pid 30
[ "$(tail -n 1 "$T/out")" = PASS ] || fail "after the refusal: $(tail -n 1 "$T/out")"
pass
