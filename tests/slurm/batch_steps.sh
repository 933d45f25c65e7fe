#!/bin/bash
# A batch job whose script runs `srun ./a; srun ./b` (two multi-node steps), with
# periodic checkpoints, vacated during b by `scontrol checkpoint vacate <jobid>` (b's
# tasks on every node, then the script's tree).  `sbatch --restart-dir=<dir>/<jobid>`
# resumes the script inside b: a is not run again (its output files are untouched and
# its recorded status stands), b resumes from its step images (the restored script's
# srun runs again with --restart-dir), the script goes on after b; every output
# matches an uninterrupted run.  A vacate that fails (a rank of b that cannot be
# checkpointed) names the node and rank, ends nothing, and the job goes on.
. "$top_srcdir/tests/slurm/lib.sh"
B=$top_builddir
slurm_test_cluster batch_steps generations=2 cr_restart=$B/util/cr_restart agent=$B/slurm_checkpoint/cr_agent \
    cr_checkpoint=$B/util/cr_checkpoint batch_bin=$B/slurm_checkpoint/batch
P=$B/tests/programs/rankcount
SC=(SCONTROL_CR_AGENT=$B/slurm_checkpoint/cr_agent SCONTROL_CR_CHECKPOINT=$B/util/cr_checkpoint
    timeout 300 "$B/scontrol-helpers/scontrol-cr")

# the uninterrupted reference: a (4 ranks, 30 steps) and b (6 ranks, 150 steps)
mkdir -p "$D/ref/a" "$D/ref/b"
{
    echo start
    for r in 0 1 2 3; do SLURM_PROCID=$r timeout 60 "$P" "$D/ref/a" 30 0; done
    echo "a 0"
    for r in 0 1 2 3 4 5; do SLURM_PROCID=$r timeout 60 "$P" "$D/ref/b" 150 0; done
    echo "b 0"
    echo end
} > "$D/ref.out" || fail "the reference run failed"
cat > "$S/job.sh" <<JOB
#!/bin/bash
echo start
srun -N2 -n4 "$P" "\$1/a" 30 0
echo "a \$?"
srun -N3 -n6 "$P" "\$1/b" 150 100
echo "b \$?"
echo end
JOB
chmod 755 "$S/job.sh"; chown "$CLUSTER_USER" "$S/job.sh"

cluster_run mkdir -p "$S/run/a" "$S/run/b"
job=$(cluster_run sbatch --parsable -N3 -n6 --checkpoint=0:02 --checkpoint-dir="$S/ck" "$S/job.sh" "$S/run") ||
    fail "sbatch failed"
# inside b, with a generation of the script taken during b
for i in $(seq 1 300); do
    [ "$(cat "$S"/run/b/rank.* 2>/dev/null | wc -l)" -ge 120 ] && break
    sleep 0.2
done
[ "$(cat "$S"/run/b/rank.* 2>/dev/null | wc -l)" -ge 120 ] || fail "step b did not start: $(cat "$S/slurm-$job.out")"
stat -c '%i %Y %s' "$S"/run/a/rank.* > "$D/a.before"
cluster_run "${SC[@]}" checkpoint vacate "$job" MaxWait=20 2> "$D/vacate.err" || fail "vacate failed: $(cat "$D/vacate.err")"
st=$(cluster_wait_job "$job" 30); [ "$st" != COMPLETED ] && [ "${st#*timed out}" = "$st" ] || fail "the vacated job ended as $st"
grep -qx "tasks 6" "$S/ck/$job.1/latest/manifest" || fail "step b was not checkpointed: $(ls -la "$S/ck/$job.1" 2>&1)"
grep -qx "task 0 script.ckpt n1" "$S/ck/$job/latest/manifest" || fail "the script was not checkpointed: $(ls -la "$S/ck/$job" 2>&1)"
for r in 0 1 2 3 4 5; do
    [ "$(wc -l < "$S/run/b/rank.$r")" -lt 150 ] || fail "rank $r of b finished before the vacate"
done

job2=$(cluster_run sbatch --parsable -N3 -n6 --restart-dir="$S/ck/$job" "$S/job.sh" "$S/fresh") ||
    fail "sbatch --restart-dir failed"
st=$(cluster_wait_job "$job2" 120) || fail "the restarted job ended as $st: $(cat "$S/slurm-$job.out"; grep -h 'error' "$D"/log/slurmd-*.log | tail -n 5)"
[ ! -e "$S/fresh" ] || fail "the batch script started afresh instead of resuming"
stat -c '%i %Y %s' "$S"/run/a/rank.* | cmp - "$D/a.before" || fail "step a ran again"
# b's ranks came back from its images, each once (not a fresh start of b)
n=$(grep -c '"event":"RSTRT_END"' "$S/ck/$job.1/events.jsonl")
[ "$n" = 6 ] || fail "$n ranks of b restarted from its images, not 6: $(cat "$S/ck/$job.1/events.jsonl")"
grep -qs '"event":"RSTRT_' "$S/ck/$job.0/events.jsonl" && fail "step a was restarted"
for s in a b; do
    for f in "$D/ref/$s"/rank.*; do
        cmp "$f" "$S/run/$s/${f##*/}" || fail "step $s, ${f##*/} differs from an uninterrupted run"
    done
done
# the script's output, with the ranks' lines in any order; srun's line of b restarted
# (all of it in the restarted job's output file)
head -c "$(stat -c %s "$D/ref.out")" "$S/slurm-$job2.out" | sort > "$D/got.sorted"
sort "$D/ref.out" | cmp - "$D/got.sorted" || fail "the batch output differs from an uninterrupted run: $(cat "$S/slurm-$job2.out")"

# rank 3 of b without the runtime: the vacate fails and the job goes on
cluster_run mkdir -p "$S/bare/a" "$S/bare/b"
job=$(cluster_run RANKCOUNT_BARE=3 sbatch --parsable -N3 -n6 --checkpoint-dir="$S/ck" "$S/job.sh" "$S/bare") ||
    fail "sbatch failed"
for i in $(seq 1 300); do
    [ "$(cat "$S"/bare/b/rank.* 2>/dev/null | wc -l)" -ge 60 ] && break
    sleep 0.2
done
out=$(cluster_run "${SC[@]}" checkpoint vacate "$job" 2>&1) && fail "vacate succeeded with rank 3 not preloaded"
echo "$out" | grep -q "step $job.1: node n2 rank 3: .*(errno [1-9][0-9]*)" || fail "the failed vacate said: $out"
cluster_run "${SC[@]}" checkpoint error "$job" | grep -q "^error([1-9][0-9]*): step $job.1: node n2 rank 3" ||
    fail "error does not report the failure"
n=$(cat "$S"/bare/b/rank.* | wc -l)
for i in $(seq 1 50); do [ "$(cat "$S"/bare/b/rank.* | wc -l)" -gt $((n + 12)) ] && break; sleep 0.1; done
[ "$(cat "$S"/bare/b/rank.* | wc -l)" -gt $((n + 12)) ] || fail "step b did not go on after the failed vacate"
timeout 10 squeue -h -j "$job" -o %T | grep -qx RUNNING || fail "the job did not go on after the failed vacate"
timeout 20 scancel "$job"
cluster_wait_job "$job" 60 > /dev/null
pass
