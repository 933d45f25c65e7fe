# Multithreaded programs checkpointed at several points and restarted: pthreads
# (computing, mutex, condition variable, join, nanosleep, poll, futex, TLS, FPU;
# read on a pipe holding unread data, epoll_wait on an eventfd and a pipe), a poll
# loop on a timerfd and a signalfd,
# OpenMP (libgomp) and threaded Python; outputs match uninterrupted runs.
. "$top_srcdir/tests/engine/lib.sh"
PY=${PYTHON3:-python3}

# run_case NAME CKPT_LINES... -- CMD...: checkpoint CMD after each number of output
# lines (the last one kills it), restart from each, compare with the reference.
run_case() {
    local name=$1; shift
    local points=
    while [ "$1" != -- ]; do points="$points $1"; shift; done
    shift
    # (bounds that only catch a hang: a loaded CI machine ran the reference 8x slower)
    local rc=0
    within 300 "$@" > "$T/$name.ref" 2> "$T/$name.referr" || rc=$?
    [ $rc = 0 ] || fail "$name: reference run failed (exit $rc$([ $rc = 124 ] && echo ': still running after 300 s'))"
    bg "$CR_RUN" "$@" > "$T/$name.out" 2> "$T/$name.err"
    local pid=$! last=${points##* } n
    wait_runtime $pid
    for n in $points; do
        wait_lines "$T/$name.out" $n 60
        local opt=--run; [ $n = $last ] && opt=--kill
        within 60 "$CR_CHECKPOINT" $opt -f "$T/$name.$n.ctx" $pid || fail "$name: checkpoint at line $n failed"
    done
    wait_gone $pid
    for n in $points; do
        truncate -s "$(fd_pos "$T/$name.$n.ctx" 1)" "$T/$name.out"
        within 300 "$CR_RESTART" "$T/$name.$n.ctx" 2> "$T/$name.restart.err" || fail "$name: restart from line $n failed"
        same "$T/$name.ref" "$T/$name.out"
    done
}

run_case pthreads 3 12 25 -- "$PROGS/threads"
"$CR_INFO" "$T/pthreads.3.ctx" | grep -q "threads: 9" || fail "the pthreads image does not hold 9 threads"
run_case fds 3 10 25 -- "$PROGS/fdthreads"
"$CR_INFO" "$T/fds.10.ctx" | grep -Eq "pipe .*read end of pipe:\[[0-9]+\], [1-9][0-9]* bytes buffered" \
    || fail "no data was saved from the pipe the reader falls behind on"
run_case timers 8 25 -- "$PROGS/timers"
"$CR_INFO" "$T/timers.8.ctx" | grep -q "timerfd .*every 0.030000000 s" || fail "the timerfd's period is not saved"
"$CR_INFO" "$T/timers.8.ctx" | grep -q "signalfd .*signals 0x200" || fail "the signalfd's mask is not saved"
run_case openmp 4 15 -- "$PROGS/omp"
cat > "$T/threads.py" <<'PYEOF'
import hashlib, queue, threading, time
jobs, results = queue.Queue(), queue.Queue()
lock = threading.Lock()
state = {"n": 0}
def worker(k):
    while True:
        item = jobs.get()
        if item is None:
            return
        h = hashlib.sha256(("%d-%d" % (k, item)).encode() * 2000).hexdigest()
        with lock:
            state["n"] += 1
        results.put((item, h[:12]))
threads = [threading.Thread(target=worker, args=(0,)) for k in range(4)]
for t in threads:
    t.start()
for step in range(40):
    for i in range(8):
        jobs.put(step * 8 + i)
    got = sorted(results.get() for _ in range(8))
    print(step, got[0][1], got[-1][1], flush=True)
    time.sleep(0.03)
for t in threads:
    jobs.put(None)
for t in threads:
    t.join()
print("done", state["n"])
PYEOF
run_case python 5 20 -- "$PY" "$T/threads.py"
pass
