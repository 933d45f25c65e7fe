#!/bin/bash
# Memory two tasks of a step share on a node, without Slurm: two shmranks tasks (a
# System V segment and a /dev/shm file, both removed once attached, counting by turns)
# under a stand-in parent named slurmstepd, which is how the node agent finds a step's
# tasks.  cr_agent's coordinated checkpoint lists the memory they share (the
# generation's shm.0: both objects, ranks 0 and 1); a create lets both go on and end
# as an uninterrupted run; after a checkpoint that stops them, cr_restart --step-dir
# maps one segment and one file again between the two restored tasks (a private copy
# each would leave both waiting for a turn that never comes) and they end as an
# uninterrupted run, leaving nothing where they met nor in /dev/shm (one restarted
# alone, without --step-dir, is refused: it would have a copy).  The same with rank 0
# keeping an fd of the file: it comes back on the one file.  A /dev/shm file that
# keeps its name is saved once and put back at its name after the job's clean-up
# removed it.  A segment a process
# outside the step has attached too is refused at the checkpoint, naming it, and the
# tasks go on.
. "$top_srcdir/tests/engine/lib.sh"
. "$top_srcdir/tests/engine/step_agent.sh"
P=$PROGS/shmranks
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
mkdir img1 img2 img3 img4 img5 meet
trap '' PIPE # an agent that gave up reads no "write"
# the tasks of this test, whatever happens (orphans of their stand-in otherwise)
kill_tasks() { for p in $(pgrep -u "$(id -u)" -f "^$P $T/"); do kill -9 $p; done 2>/dev/null; }
trap 'kill_tasks; rm -f /dev/shm/shmranks.7[0-9].$(id -u); cleanup' EXIT

# tasks JOB DIR ITERS DELAY [PROG]: the two tasks of step JOB.0 running shmranks in DIR
tasks() {
    local r
    mkdir -p "$2"
    for r in 0 1; do
        bg env SLURM_JOB_ID=$1 SLURM_STEP_ID=0 SLURMD_NODENAME=local SLURM_PROCID=$r SLURM_STEP_NUM_TASKS=2 \
            "$T/slurmstepd" "$2.out.$r" "$CR_RUN" ${5:-$P} "$T/$2" $3 $4
    done
}
task_pid() { pgrep -u "$(id -u)" -f "^${3:-$P} $T/$1 " | while read -r p; do
    tr '\0' '\n' < /proc/$p/environ 2>/dev/null | grep -qx "SLURM_PROCID=$2" && echo $p; done; }
ends() { wait_lines "$1.out.0" 2 90; wait_lines "$1.out.1" 2 90; }
# same_as_ref DIR: both ranks' files and last words are the uninterrupted run's
same_as_ref() {
    for r in 0 1; do
        same ref/rank.$r "$1/rank.$r"
        same ref.out.$r "$1.out.$r"
    done
}

ITERS=40
mkdir ref
for r in 0 1; do SLURM_JOB_ID=70 SLURM_PROCID=$r within 90 "$P" "$T/ref" $ITERS 0 > ref.out.$r & done
wait
for r in 0 1; do grep -q "^rank $r final" ref.out.$r || fail "the uninterrupted run failed: $(cat ref.out.$r)"; done
for r in 0 1; do echo "exit 0" >> ref.out.$r; done

# create: the memory listed once for both, the tasks go on
tasks 71 create $ITERS 100
wait_lines create/rank.0 8 60
agent 71 "$T/img1" || fail "the coordinated checkpoint failed: $(cat agent.out agent.err)"
grep -qx "complete 1" agent.out || fail "no complete generation: $(cat agent.out)"
[ "$(wc -l < img1/gen.1/shm.0)" = 2 ] || fail "the generation does not list the two shared objects: $(cat img1/gen.1/shm.0)"
grep -q "^0:1 [0-9]* 0 1$" img1/gen.1/shm.0 || fail "the System V segment is not listed for ranks 0 and 1: $(cat img1/gen.1/shm.0)"
grep -qv "^0:1 " img1/gen.1/shm.0 || fail "the /dev/shm file is not listed: $(cat img1/gen.1/shm.0)"
"$CR_INFO" img1 > gens.out || fail "cr_info img1: $(cat gens.out)"
grep -q "gen.1 .* 2 tasks on 1 node, 2 shared memories between tasks" gens.out ||
    fail "cr_info does not count the shared memory: $(cat gens.out)"
ends create
same_as_ref create

# stopped, then restarted with --step-dir: one segment and one file between the two
tasks 72 vacate $ITERS 100
wait_lines vacate/rank.0 8 60
agent 72 "$T/img2" --stop || fail "the coordinated checkpoint failed: $(cat agent.out agent.err)"
for r in 0 1; do p=$(task_pid vacate $r); [ -n "$p" ] && kill -9 $p; done
wait_lines vacate.out.1 1 30
n=$(wc -l < vacate/rank.0)
[ "$n" -lt $ITERS ] || fail "rank 0 finished before the checkpoint"
# one task alone would get a copy of its own: refused, naming the memory and the rank
expect_refusal 95 "the memory at 0x[0-9a-f]* was shared with rank 0 of the step: alone this task would get a copy of its own" \
    "$CR_RESTART" img2/gen.1/task.1.ckpt
for r in 0 1; do
    within 150 "$T/slurmstepd" restart.$r.log "$CR_RESTART" --step-dir="$T/meet" img2/gen.1/task.$r.ckpt &
    eval rpid$r=$!
done
# the /dev/shm file has its own name back while the tasks open it: their maps show it
# as they did (deleted)
for i in $(seq 1 200); do
    p=$(task_pid vacate 0)
    [ -n "$p" ] && grep -q " /dev/shm/shmranks\.72\.$(id -u) (deleted)$" /proc/$p/maps 2>/dev/null && break
    p=
    sleep 0.05
done
[ -n "$p" ] || fail "the restored rank 0 does not map /dev/shm/shmranks.72.$(id -u) (deleted): $(cat vacate.out.0)"
wait $rpid0; wait $rpid1
for r in 0 1; do # (the restored task writes on where it wrote: vacate.out.R)
    grep -qx "exit 0" restart.$r.log || fail "rank $r did not restart and end: $(cat restart.$r.log vacate.out.$r)"
    sed -i '/^exit 137$/d' vacate.out.$r
    echo "exit 0" >> vacate.out.$r
done
same_as_ref vacate
[ -z "$(ls -A meet)" ] || fail "files left where the tasks met: $(ls meet)"
left=$(ls /dev/shm | grep "^slurm-cr\.$(id -u)\." | while read -r f; do
    [ "$(stat -c %Y "/dev/shm/$f")" -ge "$(stat -c %Y img2/gen.1/manifest)" ] && echo "$f"; done)
[ -z "$left" ] || fail "the restart left its shared memory in /dev/shm: $left"

# rank 0 keeping its fd of the file (UCX's POSIX memory does, for its peers to attach
# through /proc/PID/fd): the fd comes back on the one file both map
SHMRANKS_KEEP_FD=1 tasks 74 keepfd $ITERS 100
wait_lines keepfd/rank.0 8 60
agent 74 "$T/img3" --stop || fail "the coordinated checkpoint with an fd failed: $(cat agent.out agent.err)"
for r in 0 1; do p=$(task_pid keepfd $r); [ -n "$p" ] && kill -9 $p; done
wait_lines keepfd.out.1 1 30
mkdir meet2
for r in 0 1; do
    within 150 "$T/slurmstepd" restart2.$r.log "$CR_RESTART" --step-dir="$T/meet2" img3/gen.1/task.$r.ckpt &
    eval rpid$r=$!
done
wait $rpid0; wait $rpid1
for r in 0 1; do
    grep -qx "exit 0" restart2.$r.log || fail "rank $r did not restart and end with its fd: $(cat restart2.$r.log keepfd.out.$r)"
    sed -i '/^exit 137$/d' keepfd.out.$r
    echo "exit 0" >> keepfd.out.$r
done
same_as_ref keepfd
[ -z "$(ls -A meet2)" ] || fail "files left where the tasks met: $(ls meet2)"
# the file keeping its name (Open MPI's vader segments): saved once by the agent, gone
# after the job (the clean-up of Slurm and the MPI), put back at its name by rank 0's
# restart, and removed by the program at its end as it would have been
SHMRANKS_NAMED=1 tasks 76 named $ITERS 100
wait_lines named/rank.0 8 60
agent 76 "$T/img5" --stop || fail "the coordinated checkpoint of a named file failed: $(cat agent.out agent.err)"
ls img5/gen.1/shmfile.0.* > /dev/null 2>&1 || fail "the named file was not saved with the generation: $(ls img5/gen.1)"
for r in 0 1; do p=$(task_pid named $r); [ -n "$p" ] && kill -9 $p; done
wait_lines named.out.1 1 30
rm /dev/shm/shmranks.76.$(id -u) || fail "the named file was not there"
mkdir meet3
for r in 0 1; do
    within 150 "$T/slurmstepd" restart3.$r.log "$CR_RESTART" --step-dir="$T/meet3" img5/gen.1/task.$r.ckpt &
    eval rpid$r=$!
done
wait $rpid0; wait $rpid1
for r in 0 1; do
    grep -qx "exit 0" restart3.$r.log || fail "rank $r did not restart and end with the named file: $(cat restart3.$r.log named.out.$r)"
    sed -i '/^exit 137$/d' named.out.$r
    echo "exit 0" >> named.out.$r
done
same_as_ref named
[ -z "$(ls -A meet3)" ] || fail "files left where the tasks met: $(ls meet3)"
[ ! -e /dev/shm/shmranks.76.$(id -u) ] || fail "the named file is still there after the program removed it"

# a process outside the step attached to the segment too: refused, naming it, and the
# tasks go on (the restarted tasks would have it, that process not)
PY=$(command -v "${PYTHON3:-python3}") || skip "no python3"
tasks 75 outside 400 50
wait_lines outside/rank.0 4 60
# (columns: key shmid perms size cpid lpid nattch uid ...)
id=$(awk -v u="$(id -u)" '$8 == u && $7 == 2 && $4 == 8192 { print $2 }' /proc/sysvipc/shm | while read -r i; do
    for p in $(task_pid outside 0); do grep -qE " $i +/SYSV" /proc/$p/maps 2>/dev/null && echo $i; done; done | head -n 1)
[ -n "$id" ] || fail "no segment of the tasks in /proc/sysvipc/shm"
"$PY" -c "import ctypes, sys, time
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
if libc.shmat($id, None, 0) in (None, ctypes.c_void_p(-1).value): sys.exit(1)
print('attached', flush=True)
time.sleep(120)" > outsider.out &
outsider=$!
track $outsider
wait_lines outsider.out 1 30
agent 75 "$T/img4" && fail "a checkpoint with the segment attached outside the step succeeded: $(cat agent.out)"
for r in 0 1; do
    grep -q "^error local $r 95 System V shared memory segment $id (key 0x0), which it shares with rank $((1 - r)), is attached 3 times on local, only 2 of them by the step's tasks there" agent.out ||
        fail "rank $r's refusal does not name the segment and the outside attachment: $(cat agent.out agent.err)"
done
kill $outsider
for r in 0 1; do kill -0 "$(task_pid outside $r)" 2>/dev/null || fail "rank $r did not go on"; done
pass
