#!/bin/bash
# The SPANK plugin on a real cluster: srun and sbatch know --checkpoint,
# --checkpoint-dir and --restart-dir and refuse a bad interval at submission; tasks get
# the old environment and run under the slurm-cr runtime, so the job's owner can
# checkpoint a task of a running step with cr_checkpoint and restart it with
# cr_restart: the output before and after matches an uninterrupted run.
. "$top_srcdir/tests/slurm/lib.sh"
slurm_test_cluster spank

# options, and Slurm's own kind of refusal
cluster_run srun --help 2>&1 | grep -q -- "--checkpoint=interval" || fail "srun --help does not show --checkpoint"
out=$(cluster_run timeout 60 srun -N1 -n1 --checkpoint=abc true 2>&1) && fail "srun accepted --checkpoint=abc"
echo "$out" | grep -q "Invalid checkpoint interval specification" || fail "srun said: $out"
out=$(cluster_run sbatch --checkpoint=1:2:3:4 --wrap true 2>&1) && fail "sbatch accepted --checkpoint=1:2:3:4"
echo "$out" | grep -q "Invalid checkpoint interval specification" || fail "sbatch said: $out"

# the task's environment
env_out=$(cluster_run timeout 60 srun -N1 -n1 --checkpoint=5:30 --checkpoint-dir="$S/ck" env 2>&1) ||
    fail "srun env failed: $env_out"
for want in "SLURM_CHECKPOINT=330" "SLURM_CHECKPOINT_DIR=$S/ck" "SLURM_CHECKPOINT_IMAGE_DIR=$S/ck/[0-9]+\.0" \
            "LD_PRELOAD=$D/lib/libcr_run.so"; do
    echo "$env_out" | grep -Eq "^$want" || fail "no $want in the task's environment: $env_out"
done

# a task of a running step, checkpointed by its owner and restarted
timeout 60 "$B/tests/programs/heapsum" 8 40 0 > "$D/ref" || fail "reference run failed"
cluster_run timeout 120 srun -N1 -n1 -o "$S/out" "$B/tests/programs/heapsum" 8 40 100 > "$D/srun.log" 2>&1 &
srun_pid=$!
pid=
for i in $(seq 1 300); do
    pid=$(pgrep -u "$CLUSTER_USER" -x heapsum | head -n 1)
    [ -n "$pid" ] && grep -q "@slurm-cr/$pid\." /proc/net/unix && [ "$(wc -l < "$S/out" 2>/dev/null || echo 0)" -ge 5 ] && break
    sleep 0.1
done
[ -n "$pid" ] || fail "the task did not start, or not under the runtime"
cluster_run "$B/util/cr_checkpoint" --kill -f "$S/task.ctx" "$pid" || fail "the owner could not checkpoint the task"
wait $srun_pid
# the task's stdout was slurmstepd's pipe: restarted, the task writes to cr_restart's
cluster_run timeout 120 "$B/util/cr_restart" "$S/task.ctx" > "$D/rest" || fail "the task's restart failed"
cat "$S/out" "$D/rest" > "$D/all"
cmp "$D/ref" "$D/all" || fail "the task's output before the checkpoint and after the restart differs from an uninterrupted run"
pass
