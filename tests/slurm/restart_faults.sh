#!/bin/bash
# Faults in the middle of a restart at launch (issue 15; tests/slurm/faults.sh has
# those of a checkpoint, and a restarting task killed): a 3-node, 6-task step whose
# rank 5 (on n3) holds 400 MiB is checkpointed and cancelled; then, while
# `srun --restart-dir` restores it:
# - n2's slurmd is killed: the step's daemons go on without it, and the restart ends
#   as an uninterrupted run would (SlurmdTimeout is raised for this test: under load
#   the restart can outlast the usual 15 s, after which slurmctld declares n2 down and
#   kills the job, "Node failure on n2", which is Slurm's doing, not the restart's);
# - n3's slurmstepd is killed: Slurm itself then never ends srun (as for any step
#   whose slurmstepd dies; proctrack/linuxproc loses its tasks), so the job is
#   cancelled, as a user would, and ends within 60 s; the processes the dead
#   slurmstepd left are ended as proctrack/cgroup would at the job's end;
# and after each, the generation is untouched (latest, no temporary files) and
# restarts into the output of an uninterrupted run.
. "$top_srcdir/tests/slurm/lib.sh"
CLUSTER_SLURMD_TIMEOUT=300
slurm_test_cluster restart_faults cr_restart=$top_builddir/util/cr_restart agent=$top_builddir/slurm_checkpoint/cr_agent
P=$B/tests/programs/rankcount
STEPS=300

ranks_reference $STEPS
cluster_run mkdir -p "$S/run" "$S/ck"
cluster_run RANKCOUNT_BIG=5:400 timeout 300 srun -N3 -n6 --checkpoint=0:02 --checkpoint-dir="$S/ck" \
    "$P" "$S/run" $STEPS 100 > "$D/first.out" 2> "$D/first.err" &
srun_pid=$!
first_generation "$S/ck" "$D/first.err"
timeout 20 scancel "$job" || fail "scancel $job failed"
timeout 60 tail --pid=$srun_pid -f /dev/null || fail "srun of the cancelled job did not end within 60 s"
wait $srun_pid
good=$(readlink "$img/latest")
cp -a "$S/run" "$D/saved" # the ranks' files as the generation left them

# stepd_of PID: the slurmstepd that PID runs under
stepd_of() {
    local p=$1 exe
    while [ "$p" -gt 1 ]; do
        p=$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null) || return 1
        exe=$(readlink "/proc/$p/exe" 2>/dev/null)
        case ${exe##*/} in slurmstepd*) echo "$p"; return 0 ;; esac
    done
    return 1
}
# restoring: the pid of rank 5's cr_restart, once it runs (at most 60 s)
restoring() {
    local i v
    for i in $(seq 1 3000); do
        v=$(pgrep -u "$CLUSTER_USER" -f "task\.5\.ckpt" | head -n 1) && [ -n "$v" ] && { echo "$v"; return 0; }
        sleep 0.02
    done
    return 1
}
# of_jobs JOB...: the job user's processes of those jobs (by SLURM_JOB_ID: a restored
# rank has the environment of the job it was saved in, cr_restart the new one's)
of_jobs() {
    local p j
    for p in $(pgrep -u "$CLUSTER_USER"); do
        for j in "$@"; do
            tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | grep -qx "SLURM_JOB_ID=$j" && { echo "$p"; break; }
        done
    done
}
# restart_ends NAME: the restart srun (pid $rpid) ends within 120 s of the fault; rrc: its status
restart_ends() {
    local start=$SECONDS rc=0
    timeout 180 tail --pid=$rpid -f /dev/null
    wait $rpid || rc=$?
    rrc=$rc
    echo "$1: srun exited $rc after $((SECONDS - start)) s: $(tail -n 5 "$D/$1.err")" >&2
    [ $((SECONDS - start)) -le 120 ] || fail "$1: srun took $((SECONDS - start)) s to end after the fault"
}

# untouched NAME: the generation is as it was
untouched() {
    [ "$(readlink "$img/latest")" = "$good" ] || fail "$1: latest moved from $good to $(readlink "$img/latest")"
    ls -d "$img"/gen.* | grep -vx "$img/$good" && fail "$1: a generation other than $good appeared"
    return 0
}
# from_saved: the ranks' files as the generation left them
from_saved() { rm -rf "$S/run" && cp -a "$D/saved" "$S/run" && chown -R "$CLUSTER_USER" "$S/run"; }
# restart_job: the restart's job id
restart_job() { timeout 10 squeue -h -u "$CLUSTER_USER" -o %i | sort -n | tail -n 1; }

# 1. n2's slurmd killed while rank 5 is restored: the restart goes on
from_saved
cluster_run timeout 300 srun -N3 -n6 --restart-dir="$img" "$P" "$S/fresh" 3 0 > "$D/slurmd.out" 2> "$D/slurmd.err" &
rpid=$!
restoring > /dev/null || fail "slurmd: rank 5's restart was not seen"
sd=$(_cl_ours "$D" slurmd-n2) || fail "no slurmd on n2"
kill -KILL "$sd"
restart_ends slurmd
[ $rrc = 0 ] || fail "slurmd: the restart failed without n2's slurmd (srun exit $rrc): $(cat "$D/slurmd.err")"
[ ! -e "$S/fresh" ] || fail "slurmd: a step started afresh instead of restarting"
same_as_ranks_reference "$S/run" "$D/slurmd.out"
cluster_node_start "$D" n2 || fail "cannot start n2's slurmd again"
untouched slurmd

# 2. n3's slurmstepd killed while rank 5 is restored; the job cancelled
from_saved
cluster_run timeout 300 srun -N3 -n6 --restart-dir="$img" "$P" "$S/fresh" 3 0 > "$D/stepd.out" 2> "$D/stepd.err" &
rpid=$!
v=$(restoring) || fail "stepd: rank 5's restart was not seen"
rjob=$(restart_job)
sd=$(stepd_of "$v") || fail "stepd: no slurmstepd above rank 5's cr_restart"
kill -KILL "$sd"
timeout 20 scancel "$rjob" || fail "stepd: scancel $rjob failed"
restart_ends stepd
for i in $(seq 1 100); do left=$(of_jobs "$job" "$rjob"); [ -z "$left" ] && break; sleep 0.1; done
if [ -n "$left" ]; then
    echo "stepd: left by the dead slurmstepd: $(ps -o pid=,args= -p "$(echo $left | tr ' ' ,)")" >&2
    kill -KILL $left 2>/dev/null
fi
untouched stepd

# the generation restarts into an uninterrupted run's output
from_saved
cluster_run timeout 300 srun -N3 -n6 --restart-dir="$img" "$P" "$S/fresh" 3 0 > "$D/restart.out" 2> "$D/restart.err" ||
    fail "the restart from $good failed: $(cat "$D/restart.err")"
[ ! -e "$S/fresh" ] || fail "a step started afresh instead of restarting"
same_as_ranks_reference "$S/run" "$D/restart.out"
pass
