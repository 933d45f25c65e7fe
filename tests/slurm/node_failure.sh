#!/bin/bash
# A node dies in the middle of a checkpoint (issue 5, point 8).  A 3-node, 6-rank step
# whose rank 5 (on n3) holds 768 MiB, so that its file takes seconds to write: one
# `scontrol checkpoint create` completes; during a second one, once n3 is about to
# write (its agent held there by CR_AGENT_STOP_AT, so that the create cannot end
# first) and the other nodes have written, n3 dies (its slurmd, step daemons and tasks killed at once).  The create fails
# within bounds naming n3, `checkpoint error` says so, nothing of the failed generation
# is kept, the ranks on n1 and n2 run on, and the first generation stays the latest:
# with n3 back, a new job restarts from it and finishes as an uninterrupted run does.
. "$top_srcdir/tests/slurm/lib.sh"
B=$top_builddir
slurm_test_cluster node_failure cr_restart=$B/util/cr_restart agent=$B/slurm_checkpoint/cr_agent \
    cr_checkpoint=$B/util/cr_checkpoint batch_bin=$B/slurm_checkpoint/batch
P=$B/tests/programs/rankcount
STEPS=300
SC=(SCONTROL_CR_AGENT=$B/slurm_checkpoint/cr_agent SCONTROL_CR_CHECKPOINT=$B/util/cr_checkpoint
    timeout 300 "$B/scontrol-helpers/scontrol-cr")

ranks_reference $STEPS
lines() { cat "$1"/rank.* 2>/dev/null | wc -l; }

cluster_run mkdir -p "$S/run"
cluster_run RANKCOUNT_BIG=5:768 timeout 600 srun --no-kill -N3 -n6 --checkpoint-dir="$S/ck" "$P" "$S/run" $STEPS 100 \
    > "$D/srun.out" 2> "$D/srun.err" &
srun_pid=$!
job=
for i in $(seq 1 300); do
    job=$(timeout 10 squeue -h -u "$CLUSTER_USER" -t R -o %i | sort -n | tail -n 1)
    [ -n "$job" ] && [ "$(lines "$S/run")" -ge 30 ] && break
    sleep 0.2
done
[ "$(lines "$S/run")" -ge 30 ] || fail "the step did not start writing: $(cat "$D/srun.err")"
img=$S/ck/$job.0

cluster_run "${SC[@]}" checkpoint create "$job.0" 2> "$D/create1.err" || fail "the first create failed: $(cat "$D/create1.err")"
good=$(readlink "$img/latest") || fail "the first create left no latest generation"
grep -qx "tasks 6" "$img/$good/manifest" || fail "the first generation is not the whole step"

# the second create; n3 dies in its middle
start=$SECONDS
cluster_run CR_AGENT_STOP_AT=write:n3 "${SC[@]}" checkpoint create "$job.0" MaxWait=20 \
    > "$D/create2.out" 2> "$D/create2.err" &
cpid=$!
held=
for i in $(seq 1 600); do
    for p in $(pgrep -u "$CLUSTER_USER" -x cr_agent); do
        tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | grep -qx "SLURMD_NODENAME=n3" &&
            [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" = T ] && held=$p
    done
    [ -n "$held" ] && break
    sleep 0.1
done
[ -n "$held" ] || fail "n3's agent was never held in the middle of the create"
# n1 and n2 have written theirs: their ranks run again
for r in 0 1 2 3; do
    n=$(wc -l < "$S/run/rank.$r")
    for i in $(seq 1 600); do [ "$(wc -l < "$S/run/rank.$r")" -gt "$n" ] && break; sleep 0.1; done
done
cluster_node_kill "$D" n3 || fail "cannot kill n3"
killed=$SECONDS
# the ranks on n1 and n2 were let go: they run on until Slurm ends the step
for r in 0 1 2 3; do
    n=$(wc -l < "$S/run/rank.$r")
    for i in $(seq 1 50); do [ "$(wc -l < "$S/run/rank.$r")" -gt "$n" ] && break; sleep 0.1; done
    [ "$(wc -l < "$S/run/rank.$r")" -gt "$n" ] || fail "rank $r stays stopped after n3 died"
done
timeout 300 tail --pid=$cpid -f /dev/null
wait $cpid && fail "the create succeeded although n3 died during it"
echo "create ended $((SECONDS - killed)) s after n3 died" >&2
[ $((SECONDS - killed)) -le 120 ] || fail "the create took $((SECONDS - killed)) s to see that n3 died"
out=$(cat "$D/create2.err")
echo "$out" >&2
echo "$out" | grep -q "node n3: the node failed during the checkpoint.*(errno 112, EHOSTDOWN)" ||
    fail "the failure does not name n3 and why: $out"
echo "$out" | grep -q "node n[12]" && fail "a healthy node was blamed: $out"
[ "$(readlink "$img/latest")" = "$good" ] || fail "latest moved from $good to $(readlink "$img/latest")"
ls -d "$img"/gen.*.tmp 2>/dev/null && fail "the failed generation was left behind"
ls -d "$img"/gen.* | grep -vx "$img/$good" && fail "a generation other than $good is kept"

# Slurm ends the step of a failed node; n3 comes back and a new job resumes from $good
timeout 120 tail --pid=$srun_pid -f /dev/null || fail "srun did not end after n3 died"
cluster_node_start "$D" n3 || fail "n3 did not come back"
n=$(lines "$S/run")
cluster_run timeout 300 srun -N3 -n6 --restart-dir="$img" "$P" "$S/fresh" 3 0 > "$D/restart.out" 2> "$D/restart.err" ||
    fail "the restart from $good failed: $(cat "$D/restart.err")"
[ ! -e "$S/fresh" ] || fail "the step started afresh instead of restarting"
same_as_ranks_reference "$S/run" "$D/restart.out"

# A batch job with periodic checkpoints whose node dies: Slurm requeues it, and the
# requeued job (same id, on a node still up) resumes from the latest complete generation
STEPS=160
serial_batch_job $STEPS "$D/ref0"
cluster_run mkdir -p "$S/b"
job=$(cluster_run sbatch --parsable --requeue --checkpoint=0:02 --checkpoint-dir="$S/ck" "$S/job.sh" "$S/b") ||
    fail "sbatch failed"
for i in $(seq 1 300); do
    l=$(readlink "$S/ck/$job/latest" 2>/dev/null) && [ "${l#gen.}" -ge 2 ] && break
    sleep 0.2
done
[ -n "$l" ] || fail "job $job: no checkpoint within 60 s: $(cat "$S/ck/$job/errors.log" 2>&1)"
host=$(timeout 10 scontrol show job "$job" | sed -n 's/.* BatchHost=\([^ ]*\).*/\1/p')
cluster_node_kill "$D" "$host" || fail "cannot kill $host"
[ "$(wc -l < "$S/b/rank.0")" -lt $STEPS ] || fail "job $job finished before its node died"
for i in $(seq 1 600); do
    timeout 10 scontrol show job "$job" | grep -q "Restarts=1 " && break
    sleep 0.5
done
st=$(cluster_wait_job "$job" 300) || fail "the requeued job $job ended as $st: $(cat "$S/slurm-$job.out")"
timeout 10 scontrol show job "$job" | grep -q "Restarts=1 " || fail "job $job was not requeued once"
again=$(timeout 10 scontrol show job "$job" | sed -n 's/.* BatchHost=\([^ ]*\).*/\1/p')
[ "$again" != "$host" ] || fail "job $job ran again on $host, which is down"
[ "$(cat "$S/b/runs")" = run ] || fail "job $job: the script started $(wc -l < "$S/b/runs") times"
cmp "$S/b/rank.0" "$D/ref0/rank.0" || fail "job $job: the program's output differs from an uninterrupted run"
head -c "$(stat -c %s "$D/ref0.out")" "$S/slurm-$job.out" | cmp - "$D/ref0.out" ||
    fail "job $job: the script's output differs from an uninterrupted run: $(od -c "$S/slurm-$job.out" | head)"
cluster_node_start "$D" "$host" || fail "$host did not come back"
pass
