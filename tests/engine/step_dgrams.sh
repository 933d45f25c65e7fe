#!/bin/bash
# Unix datagrams between two tasks of a step, without Slurm: two dgramranks tasks (each
# an autobound unix datagram socket, sending the other one datagram per iteration and
# receiving three iterations late, as UCX's wake-ups between the ranks of a node) under
# a stand-in parent named slurmstepd, which is how the node agent finds a step's tasks.
# cr_agent's coordinated checkpoint saves each socket with the datagrams the other task
# sent to it (stepdgram, naming the sender's address); a create lets both go on and end
# as an uninterrupted run; after a checkpoint that stops them, cr_restart --step-dir
# has each restored task send again from its own socket what the other one had queued,
# before either runs, and both end as an uninterrupted run (each checks every
# datagram's sender address), leaving nothing where they met.  Each also reads the
# other's memory by the pid it said at its start (DGRAMRANKS_CMA, as UCX's CMA
# transport): after the restart, with new pids, the call reaches the other's restored
# process (its runtime knows the node's other tasks by their old pids), whose memory
# is all there (no task runs before every task is restored).  One task restarted
# alone, without --step-dir, is refused (its datagrams would be lost), and so is a
# task whose sender does not come back (named at once, never a hang).
. "$top_srcdir/tests/engine/lib.sh"
. "$top_srcdir/tests/engine/step_agent.sh"
P=$PROGS/dgramranks
cd "$T"
# slurmstepd OUT CMD...: runs CMD as its child, its output to OUT, then "exit N" there
cat > slurmstepd <<'SH'
#!/bin/bash
out=$1
shift
"$@" < /dev/null >> "$out" 2>&1
echo "exit $?" >> "$out"
SH
chmod 755 slurmstepd
mkdir img1 img2 meet meet2
trap '' PIPE # an agent that gave up reads no "write"
kill_tasks() { for p in $(pgrep -u "$(id -u)" -f "^$P $T/"); do kill -9 $p; done 2>/dev/null; }
trap 'kill_tasks; cleanup' EXIT

# tasks JOB DIR ITERS DELAY: the two tasks of step JOB.0 running dgramranks in DIR
tasks() {
    local r
    mkdir -p "$2"
    for r in 0 1; do
        bg env DGRAMRANKS_CMA=1 SLURM_JOB_ID=$1 SLURM_STEP_ID=0 SLURMD_NODENAME=local SLURM_PROCID=$r SLURM_STEP_NUM_TASKS=2 \
            "$T/slurmstepd" "$2.out.$r" "$CR_RUN" "$P" "$T/$2" $3 $4
    done
}
task_pid() { pgrep -u "$(id -u)" -f "^$P $T/$1 " | while read -r p; do
    tr '\0' '\n' < /proc/$p/environ 2>/dev/null | grep -qx "SLURM_PROCID=$2" && echo $p; done; }
ends() { wait_lines "$1.out.0" 2 90; wait_lines "$1.out.1" 2 90; }
same_as_ref() {
    for r in 0 1; do
        same ref/rank.$r "$1/rank.$r"
        same ref.out.$r "$1.out.$r"
    done
}

ITERS=40
mkdir ref
for r in 0 1; do DGRAMRANKS_CMA=1 SLURM_PROCID=$r within 90 "$P" "$T/ref" $ITERS 0 > ref.out.$r & done
wait
for r in 0 1; do grep -q "^rank $r done" ref.out.$r || fail "the uninterrupted run failed: $(cat ref.out.$r)"; done
for r in 0 1; do echo "exit 0" >> ref.out.$r; done

# create: each socket saved with the other task's datagrams, the tasks go on
tasks 86 create $ITERS 100
wait_lines create/rank.0 8 60
wait_lines create/rank.1 8 60
agent 86 "$T/img1" || fail "the coordinated checkpoint failed: $(cat agent.out agent.err)"
grep -qx "complete 1" agent.out || fail "no complete generation: $(cat agent.out)"
for r in 0 1; do
    "$CR_INFO" img1/gen.1/task.$r.ckpt > info.$r || fail "cr_info task.$r"
    grep -q "stepdgram .* [1-9][0-9]* bytes queued in [1-9][0-9]* messages" info.$r ||
        fail "rank $r's socket was not saved with the datagrams of the other task: $(grep -i unix info.$r)"
    grep -q "sent by the socket @[0-9a-f]* of another task of the step" info.$r ||
        fail "cr_info does not name the sender of rank $r's datagrams: $(cat info.$r)"
done
ends create
same_as_ref create

# stopped, then restarted with --step-dir: each task sends again what it had sent
tasks 87 vacate $ITERS 100
wait_lines vacate/rank.0 8 60
wait_lines vacate/rank.1 8 60
agent 87 "$T/img2" --stop || fail "the coordinated checkpoint failed: $(cat agent.out agent.err)"
for r in 0 1; do p=$(task_pid vacate $r); [ -n "$p" ] && kill -9 $p; done
wait_lines vacate.out.1 1 30
wait_lines vacate.out.0 1 30
for r in 0 1; do grep -q "stepdgram .* [1-9][0-9]* messages" <("$CR_INFO" img2/gen.1/task.$r.ckpt) ||
    fail "rank $r was stopped with no datagram queued: the test checks nothing"; done
# alone, without --step-dir: refused, the datagrams would be lost
expect_refusal 95 "has datagrams queued from the socket @[0-9a-f]* of another task of its Slurm step, which that task sends again at restart: restart the whole step" \
    "$CR_RESTART" img2/gen.1/task.0.ckpt
# with --step-dir, a rank 1 that has nothing to send (its marks written by hand):
# refused at once, naming the sender that did not come back (never a hang)
touch meet2/dgram.ready.1 meet2/dgram.over.1
expect_refusal 2 "no task of the step on this node has the socket @[0-9a-f]* that sent the [1-9][0-9]* datagrams queued to it" \
    "$CR_RESTART" --step-dir="$T/meet2" img2/gen.1/task.0.ckpt
for r in 0 1; do
    within 150 "$T/slurmstepd" restart.$r.log "$CR_RESTART" --step-dir="$T/meet" img2/gen.1/task.$r.ckpt &
    eval rpid$r=$!
done
wait $rpid0; wait $rpid1
for r in 0 1; do # (the restored task writes on where it wrote: vacate.out.R)
    grep -qx "exit 0" restart.$r.log || fail "rank $r did not restart and end: $(cat restart.$r.log vacate.out.$r)"
    sed -i '/^exit 137$/d' vacate.out.$r
    echo "exit 0" >> vacate.out.$r
done
same_as_ref vacate
[ -z "$(ls -A meet)" ] || fail "files left where the tasks met: $(ls meet)"
pass
