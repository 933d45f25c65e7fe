#!/bin/bash
# A step whose tasks are process trees: each task is a shell running the program piped
# into cat.  Periodic checkpoints take every task with its children (one tree file per
# task), the job is cancelled, and a new job's --restart-dir brings every tree back:
# each rank's file and the line its program wrote through the pipe match an
# uninterrupted run.
. "$top_srcdir/tests/slurm/lib.sh"
slurm_test_cluster task_tree generations=2 cr_restart=$top_builddir/util/cr_restart agent=$top_builddir/slurm_checkpoint/cr_agent
P=$B/tests/programs/rankcount
STEPS=80
mkdir -p "$D/ref"
for r in 0 1; do
    SLURM_PROCID=$r timeout 60 "$P" "$D/ref" $STEPS 0 > "$D/ref/pipe.$r" || fail "reference rank $r failed"
done
cluster_run mkdir -p "$S/run" "$S/ck"
cat > "$S/task.sh" <<SH
#!/bin/bash
"$P" "$S/run" $STEPS 100 | cat > "$S/run/pipe.\$SLURM_PROCID"
SH
chmod 755 "$S/task.sh"
cluster_run timeout 120 srun -N2 -n2 --checkpoint=0:02 --checkpoint-dir="$S/ck" "$S/task.sh" \
    > "$D/first.out" 2> "$D/first.err" &
srun_pid=$!
first_generation "$S/ck" "$D/first.err"
latest=$(readlink "$img/latest")
for r in 0 1; do
    cluster_run "$B/util/cr_info" "$img/$latest/task.$r.ckpt" > "$D/info.$r" || fail "task.$r.ckpt is not valid"
    grep -q "^scope:    tree, [3-9] processes" "$D/info.$r" || fail "task $r was not saved with its children: $(sed -n 1,6p "$D/info.$r")"
done
timeout 20 scancel "$job" || fail "scancel failed"
timeout 60 tail --pid=$srun_pid -f /dev/null
wait $srun_pid
cluster_run timeout 120 srun -N2 -n2 --restart-dir="$img" "$S/task.sh" > "$D/second.out" 2> "$D/second.err" ||
    fail "the restarted step failed: $(cat "$D/second.err")"
for r in 0 1; do
    cmp -s "$D/ref/rank.$r" "$S/run/rank.$r" || fail "rank $r's file differs from an uninterrupted run"
    cmp -s "$D/ref/pipe.$r" "$S/run/pipe.$r" || fail "rank $r's line through the pipe differs: $(cat "$S/run/pipe.$r")"
done
pass
