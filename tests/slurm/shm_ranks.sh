#!/bin/bash
# Memory two tasks of a step share on one node (tests/programs/shmranks: a System V
# segment and a /dev/shm file, both removed once attached, the two ranks counting by
# turns in them), as MPI ranks on a node do: `scontrol checkpoint create` saves it
# (listed once for both in the generation's shm.NODEID) and the job goes on; after
# `scontrol checkpoint vacate`, `srun --restart-dir` in a new job maps one segment and
# one file again between the two new tasks (with a copy each, both would wait for a
# turn that never comes).  Both end as an uninterrupted run, and nothing is left where
# they met nor in /dev/shm.
. "$top_srcdir/tests/slurm/lib.sh"
slurm_test_cluster shm_ranks cr_restart=$top_builddir/util/cr_restart agent=$top_builddir/slurm_checkpoint/cr_agent
P=$B/tests/programs/shmranks
SC=(SCONTROL_CR_AGENT=$B/slurm_checkpoint/cr_agent SCONTROL_CR_CHECKPOINT=$B/util/cr_checkpoint
    timeout 300 "$B/scontrol-helpers/scontrol-cr")
ITERS=60
uid=$(id -u "$CLUSTER_USER")

cluster_run mkdir -p "$S/ref" "$S/create" "$S/vacate"
cluster_run timeout 120 srun -N1 -n2 "$P" "$S/ref" $ITERS 0 > "$S/ref.out" 2> "$D/ref.err" ||
    fail "the uninterrupted run failed: $(cat "$D/ref.err")"

# create: the shared memory listed once for both ranks, the job goes on
cluster_run timeout 200 srun -N1 -n2 --checkpoint-dir="$S/ck1" "$P" "$S/create" $ITERS 100 \
    > "$S/create.out" 2> "$D/create.err" &
srun_pid=$!
wait_lines "$S/create/rank.1" 10
running_job
cluster_run "${SC[@]}" checkpoint create "$job.0" 2> "$D/create.sc" || fail "create failed: $(cat "$D/create.sc")"
img=$S/ck1/$job.0
grep -qx "tasks 2" "$img/latest/manifest" || fail "the create made no complete generation"
list=$(cat "$img"/latest/shm.* 2>/dev/null)
[ "$(echo "$list" | grep -c " 0 1$")" = 2 ] || fail "the generation does not list the segment and the file for ranks 0 and 1: $list"
timeout 200 tail --pid=$srun_pid -f /dev/null || fail "the job did not end after the create"
wait $srun_pid || fail "the job failed after the create: $(cat "$D/create.err")"
same_as_reference "$S/ref" "$S/create" "$S/create.out" 2

# vacate, then a restart in a new job: one segment and one file between the two again
cluster_run timeout 200 srun -N1 -n2 --checkpoint-dir="$S/ck2" "$P" "$S/vacate" $ITERS 100 \
    > /dev/null 2> "$D/vacate.err" &
srun_pid=$!
wait_lines "$S/vacate/rank.1" 10
running_job
cluster_run "${SC[@]}" checkpoint vacate "$job.0" 2> "$D/vacate.sc" || fail "vacate failed: $(cat "$D/vacate.sc")"
timeout 60 tail --pid=$srun_pid -f /dev/null || fail "srun did not end after the vacate"
img=$S/ck2/$job.0
grep -qx "tasks 2" "$img/latest/manifest" || fail "the vacate made no complete generation"
n=$(wc -l < "$S/vacate/rank.0")
[ "$n" -lt "$ITERS" ] || fail "rank 0 finished before the vacate"
before=$(ls /dev/shm | grep -c "^slurm-cr\.$uid\.")
cluster_run timeout 200 srun -N1 -n2 --restart-dir="$img" "$P" "$S/fresh" 3 0 > "$S/restart.out" 2> "$D/restart.err" ||
    fail "the restarted step failed: $(cat "$D/restart.err")"
[ ! -e "$S/fresh" ] || fail "the step started afresh instead of restarting"
same_as_reference "$S/ref" "$S/vacate" "$S/restart.out" 2
[ -z "$(ls -A "$img"/meet.* 2>/dev/null)" ] || fail "the tasks left files where they met: $(ls -R "$img"/meet.*)"
[ "$(ls /dev/shm | grep -c "^slurm-cr\.$uid\.")" = "$before" ] || fail "the restart left its shared memory in /dev/shm: $(ls /dev/shm)"
pass
