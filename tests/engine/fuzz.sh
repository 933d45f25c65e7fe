# The context-file reader and the control socket's checks under libFuzzer with
# AddressSanitizer and UBSan (make fuzz builds them), a short run each from a seed
# corpus of real images made here (with every kind of fd, a compressed image, one
# through ptrace, an incremental one): no crash, no sanitizer
# report.  FUZZ_SECONDS runs them longer (scripts/soak does).
. "$top_srcdir/tests/engine/lib.sh"
command -v clang >/dev/null || fail "clang is not installed (scripts/install-deps installs it)"
secs=${FUZZ_SECONDS:-20}
cd "$T"
within 600 make -s -C "$top_builddir" fuzz > build.log 2>&1 || fail "make fuzz failed: $(tail -n 20 build.log)"
mkdir corpus control
# real images: one process, and a tree
bg "$CR_RUN" "$PROGS/heapsum" 1 30 50 > out 2> run.err
pid=$!
wait_runtime $pid
wait_lines out 2
within 60 "$CR_CHECKPOINT" -f corpus/one.ctx $pid || fail "no seed image"
wait_gone $pid 60
bg "$CR_RUN" bash -c "$PROGS/heapsum 1 30 50 | cat" > out2 2> run2.err
pid=$!
wait_runtime $pid
wait_lines out2 2
within 60 "$CR_CHECKPOINT" --tree -f corpus/tree.ctx $pid || fail "no seed tree image"
wait_gone $pid 60
# and images that hold every kind of fd, so that the reader's fuzzing starts from each
# kind's records: conformance programs checkpointed as they go on
for prog in timerfd_armed signalfd_mask epoll_nested mqueue_order inotify_watch pidfd_self \
        opath_file fifo_data deleted_dir_fd dup_shared_offset memfd_seals scm_rights \
        sockets_in_tree tcp_accepted_closed outside_ends mcast_memberships socket_filter; do
    bg "$CR_RUN" "$top_builddir/tests/conformance/$prog" < /dev/null > $prog.out 2> $prog.err
    pid=$!
    wait_runtime $pid
    i=0
    until grep -qx READY $prog.out; do
        i=$((i + 1)); [ $i -le 600 ] || fail "$prog: no READY within 30 s"
        sleep 0.05
    done
    within 60 "$CR_CHECKPOINT" -f corpus/$prog.ctx $pid || fail "no seed image of $prog"
    kill -USR2 $pid
    wait_gone $pid 60
done
# a process without the runtime, through ptrace (its threads' registers records)
bg "$PROGS/ptrace_work" 100000 2 > outp 2> runp.err
pid=$!
wait_lines outp 5
within 60 "$CR_CHECKPOINT" --backend=kmod --kill -p -f corpus/ptrace.ctx $pid || fail "no seed image through ptrace"
wait_gone $pid 60
# stdout on a FIFO read outside (an inherited fd), and a pseudo-terminal pair
mkfifo out.fifo
bg cat out.fifo > out3
bg "$CR_RUN" "$PROGS/heapsum" 1 30 50 > out.fifo 2> run3.err
pid=$!
wait_runtime $pid
wait_lines out3 2
within 60 "$CR_CHECKPOINT" -f corpus/inherit.ctx $pid || fail "no seed image with an inherited fd"
wait_gone $pid 60
bg "$CR_RUN" "$PROGS/ptytree" 40 > pty.out 2> pty.err
pid=$!
wait_runtime $pid
wait_lines pty.out 2
within 60 "$CR_CHECKPOINT" --tree -f corpus/pty.ctx $pid || fail "no seed image with a pty"
wait_gone $pid 60
# a compressed image (zeroed memory: its blocks compressed, the runtime's raw or not)
bg "$CR_RUN" "$PROGS/datakinds" 1 600 50 zeros > out3 2> run3.err
pid=$!
wait_runtime $pid
wait_lines out3 2
within 60 "$CR_CHECKPOINT" --compress --kill -f corpus/zstd.ctx $pid || fail "no seed compressed image"
wait_gone $pid 60
[ "$(stat -c %s corpus/zstd.ctx)" -le 1048576 ] || fail "the compressed seed is larger than -max_len"
# an incremental image (its parent's records: where the kernel cannot track, a full one)
bg "$CR_RUN" "$PROGS/heapsum" 1 30 50 > out4 2> run4.err
pid=$!
wait_runtime $pid
wait_lines out4 2
within 60 "$CR_CHECKPOINT" --incremental -f incr.parent $pid 2> incr.err || fail "no seed parent image"
within 60 "$CR_CHECKPOINT" --incremental --kill -f corpus/incr.ctx $pid 2>> incr.err ||
    fail "no seed incremental image: $(cat incr.err)"
wait_gone $pid 60
for h in reader:corpus control:control; do
    name=${h%%:*}
    within $((secs + 120)) "$top_builddir/tests/fuzz/fuzz_$name" -max_total_time=$secs -max_len=1048576 \
        -rss_limit_mb=4096 "${h#*:}" > "fuzz_$name.log" 2>&1 ||
        fail "fuzz_$name found a problem: $(grep -E 'ERROR|SUMMARY|runtime error' "fuzz_$name.log" | head -5)"
    grep -E "^(#[0-9]+|Done)" "fuzz_$name.log" | tail -n 1
done
pass
