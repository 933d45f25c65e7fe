#!/bin/bash
# The node agent with backend=kmod (plugstack.conf backend=kmod preload=no: the
# plugin puts CR_BACKEND=kmod in the step's environment, the tasks start without the
# runtime), without Slurm: two tcppair tasks (a TCP server and client with data in
# flight), never under cr_run, under a stand-in parent named slurmstepd, which is how
# the node agent finds a step's tasks.
# Where the crctl module is loaded (/dev/crctl; the qemu guests of tests/kmod/engine.sh):
# the agent's coordinated checkpoint (scontrol checkpoint create) holds and writes both
# through ptrace (ptrace images, the connection saved as the step's at both ends) and
# they go on and end as an uninterrupted run; one that stops them (vacate), then
# cr_restart --step-dir of each (what srun --restart-dir runs in each task), ends as
# an uninterrupted run too; the agent's other path (one cr_checkpoint per task, as for
# a batch script) writes a ptrace image as well.
# Where it is not: the checkpoint is refused, naming the module and how to load it,
# and the tasks go on unharmed; CR_BACKEND=auto (the module not required) then takes
# the same path as kmod above.  A bad CR_BACKEND is refused, naming it.
. "$top_srcdir/tests/engine/lib.sh"
. "$top_srcdir/tests/engine/step_agent.sh"
P=$PROGS/tcppair
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
mkdir img0 img1 img2 img3 img5
trap '' PIPE # an agent that gave up reads no "write"
kill_tasks() { for p in $(pgrep -u "$(id -u)" -f "^$P $T/"); do kill -9 $p; done 2>/dev/null; }
trap 'kill_tasks; cleanup' EXIT

# tasks JOB DIR ITERS DELAY: the two tasks of step JOB.0 running tcppair in DIR, no runtime
tasks() {
    local r
    mkdir -p "$2"
    for r in 0 1; do
        bg env SLURM_JOB_ID=$1 SLURM_STEP_ID=0 SLURMD_NODENAME=local SLURM_PROCID=$r SLURM_STEP_NUM_TASKS=2 \
            "$T/slurmstepd" "$2.out.$r" "$P" "$T/$2" $3 $4
    done
}
task_pid() { pgrep -u "$(id -u)" -f "^$P $T/$1 " | while read -r p; do
    tr '\0' '\n' < /proc/$p/environ 2>/dev/null | grep -qx "SLURM_PROCID=$2" && echo $p; done; }
ends() { wait_lines "$1.out.0" 2 120; wait_lines "$1.out.1" 2 120; }
same_as_ref() { for r in 0 1; do same ref/rank.$r "$1/rank.$r"; same ref.out.$r "$1.out.$r"; done; }
# ptrace_images DIR: both ranks' files written from outside, the connection the step's
ptrace_images() {
    for r in 0 1; do
        "$CR_INFO" $1/gen.1/task.$r.ckpt > info.$r || fail "cr_info $1 task.$r: $(cat info.$r)"
        grep -q "ptrace" info.$r || fail "rank $r was not written by the ptrace dumper: $(head -20 info.$r)"
        grep -q "stepconn.*TCP connection 127.0.0.1:[0-9]* -> 127.0.0.1:[0-9]* to another task of the step" info.$r ||
            fail "rank $r's connection was not saved as the step's: $(grep -i tcp info.$r)"
    done
}

ITERS=40
mkdir ref
for r in 0 1; do SLURM_PROCID=$r within 90 "$P" ref $ITERS 0 > ref.out.$r & done
wait
for r in 0 1; do echo "exit 0" >> ref.out.$r; done

if [ -c /dev/crctl ]; then
    export CR_BACKEND=kmod
else
    # the site's backend=kmod on a node without the module: said, and nothing harmed
    export CR_BACKEND=kmod
    tasks 80 nomod $ITERS 100
    wait_lines nomod/rank.0 8 60
    agent 80 "$T/img0" && fail "backend=kmod without the module succeeded: $(cat agent.out)"
    grep -q "^error local [01] 2 backend=kmod, but the crctl module is not loaded on local (/dev/crctl: No such file or directory): load it there (modprobe crctl" agent.out ||
        fail "the refusal does not name the missing module and its fix: $(cat agent.out agent.err)"
    grep -q "^\(cancelled\|error\) local 0" agent.out && grep -q "^\(cancelled\|error\) local 1" agent.out ||
        fail "not every task was told: $(cat agent.out)"
    ends nomod
    same_as_ref nomod
    export CR_BACKEND=auto
fi
# a bad value: named, and the tasks go on
tasks 85 badval 2000 100
wait_lines badval/rank.0 2 60
CR_BACKEND=nonsense agent 85 "$T/img5" && fail "CR_BACKEND=nonsense was taken"
grep -q "^error local [01] 22 CR_BACKEND=nonsense (backend= in plugstack.conf, or the job's CR_BACKEND): want user, kmod or auto" agent.out ||
    fail "a bad CR_BACKEND was not named: $(cat agent.out agent.err)"
kill_tasks

# create: both written through ptrace, the step's connection at both ends; they go on
tasks 81 create $ITERS 100
wait_lines create/rank.0 8 60
agent 81 "$T/img1" || fail "the coordinated checkpoint (CR_BACKEND=$CR_BACKEND) failed: $(cat agent.out agent.err)"
grep -qx "complete 1" agent.out || fail "no complete generation: $(cat agent.out)"
ptrace_images img1
ends create
same_as_ref create

# vacate (--stop), then each restarted as srun --restart-dir does, meeting in one dir
tasks 82 vacate $ITERS 100
wait_lines vacate/rank.0 8 60
agent 82 "$T/img2" --stop || fail "the coordinated checkpoint (--stop) failed: $(cat agent.out agent.err)"
ptrace_images img2
for r in 0 1; do p=$(task_pid vacate $r); [ -n "$p" ] && kill -9 $p; done
wait_lines vacate.out.1 1 30
mkdir meet
for r in 0 1; do
    SLURM_PROCID=$r within 180 "$T/slurmstepd" restart.$r.log "$CR_RESTART" --step-dir="$T/meet" \
        -f img2/gen.1/task.$r.ckpt &
    eval rpid$r=$!
done
wait $rpid0; wait $rpid1
for r in 0 1; do
    grep -qx "exit 0" restart.$r.log || fail "rank $r did not restart and end: $(cat restart.$r.log)"
    sed -i '/^exit 137$/d' vacate.out.$r; echo "exit 0" >> vacate.out.$r
done
same_as_ref vacate

# the agent's other path: one cr_checkpoint per task (-p), CR_BACKEND passed on
tasks 83 single 1000 100
wait_lines single/rank.0 4 60
SLURMD_NODENAME=local SLURM_NODEID=0 SLURM_NNODES=1 within 300 "$AGENT" checkpoint 83 0 --image-dir "$T/img3" \
    --gen 1 --cr-checkpoint "$CR_CHECKPOINT" > single.out 2> single.err ||
    fail "the agent's per-task checkpoint failed: $(cat single.out single.err)"
grep -qx "complete 1" single.out || fail "no complete generation: $(cat single.out)"
"$CR_INFO" img3/gen.1/task.0.ckpt | grep -q ptrace || fail "the per-task path did not write a ptrace image"
kill -0 "$(task_pid single 0)" 2>/dev/null || fail "the task did not go on"
pass
