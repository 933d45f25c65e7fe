#!/bin/bash
# Requeue: `scontrol checkpoint requeue <jobid>` checkpoints a batch job (a script
# running a long serial program), ends it and requeues it; the requeued job (same job
# id) resumes from that checkpoint by itself.  A job with periodic checkpoints that is
# requeued otherwise (`scontrol requeue`) resumes from its latest complete generation.
# Each time the script is not run again and the outputs match an uninterrupted run.
. "$top_srcdir/tests/slurm/lib.sh"
B=$top_builddir
slurm_test_cluster requeue generations=2 cr_restart=$B/util/cr_restart agent=$B/slurm_checkpoint/cr_agent \
    cr_checkpoint=$B/util/cr_checkpoint batch_bin=$B/slurm_checkpoint/batch
P=$B/tests/programs/rankcount
STEPS=160
SC=(SCONTROL_CR_AGENT=$B/slurm_checkpoint/cr_agent SCONTROL_CR_CHECKPOINT=$B/util/cr_checkpoint
    timeout 300 "$B/scontrol-helpers/scontrol-cr")

mkdir -p "$D/ref"
SLURM_PROCID=0 timeout 60 "$P" "$D/ref" $STEPS 0 > "$D/ref.done" || fail "the reference run failed"
printf 'start\n%s\nexit 0\n' "$(cat "$D/ref.done")" > "$D/ref.out"
# every start of the script leaves a line in OUTDIR/runs
cat > "$S/job.sh" <<JOB
#!/bin/bash
echo run >> "\$1/runs"
echo "start"
"$P" "\$1" $STEPS 100
echo "exit \$?"
JOB
chmod 755 "$S/job.sh"; chown "$CLUSTER_USER" "$S/job.sh"

# run_and_requeue OUTDIR HOW: a job with periodic checkpoints, requeued midway by HOW
run_and_requeue() {
    local out=$1 how=$2 job l
    cluster_run mkdir -p "$out"
    job=$(cluster_run sbatch --parsable --checkpoint=0:02 --checkpoint-dir="$S/ck" "$S/job.sh" "$out") ||
        fail "sbatch failed"
    for i in $(seq 1 300); do
        l=$(readlink "$S/ck/$job/latest" 2>/dev/null) && [ "${l#gen.}" -ge 2 ] && break
        sleep 0.2
    done
    [ -n "$l" ] || fail "job $job: no checkpoint within 60 s: $(cat "$S/ck/$job/errors.log" 2>&1)"
    case $how in
        checkpoint) cluster_run "${SC[@]}" checkpoint requeue "$job" 2> "$D/requeue.err" ||
                        fail "checkpoint requeue failed: $(cat "$D/requeue.err")" ;;
        scontrol) cluster_run timeout 30 scontrol requeue "$job" || fail "scontrol requeue failed" ;;
    esac
    n=$(wc -l < "$out/rank.0")
    [ "$n" -lt $STEPS ] || fail "job $job finished before it was requeued"
    # Slurm holds a requeued job back for about two minutes before it starts it again
    st=$(cluster_wait_job "$job" 240) || fail "the requeued job $job ended as $st: $(cat "$S/slurm-$job.out")"
    timeout 10 scontrol show job "$job" | grep -q "Restarts=1 " || fail "job $job was not requeued once"
    [ "$(cat "$out/runs")" = run ] || fail "job $job: the script started $(wc -l < "$out/runs") times"
    grep -q '"event":"RSTRT_END"' "$S/ck/$job/events.jsonl" || fail "job $job: no RSTRT_END event"
    cmp "$out/rank.0" "$D/ref/rank.0" || fail "job $job: the program's output differs from an uninterrupted run"
    head -c "$(stat -c %s "$D/ref.out")" "$S/slurm-$job.out" | cmp - "$D/ref.out" ||
        fail "job $job: the script's output differs from an uninterrupted run: $(od -c "$S/slurm-$job.out" | head)"
}
run_and_requeue "$S/one" checkpoint
run_and_requeue "$S/two" scontrol
pass
