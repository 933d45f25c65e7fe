#!/bin/bash
# Requeue: `scontrol checkpoint requeue <jobid>` checkpoints a batch job (a script
# running a long serial program), ends it and requeues it; the requeued job (same job
# id) resumes from that checkpoint by itself.  A job with periodic checkpoints that is
# requeued otherwise (`scontrol requeue`) resumes from its latest complete generation,
# goes on with periodic checkpoints, and resumes again when it is requeued a second
# time; so does one preempted (PreemptMode=REQUEUE) by a job of a higher partition.  The script is never run again and the outputs match an uninterrupted run.
. "$top_srcdir/tests/slurm/lib.sh"
B=$top_builddir
# a partition whose jobs preempt (requeue) those of the default one
export CLUSTER_EXTRA_CONF='PreemptType=preempt/partition_prio
PreemptMode=REQUEUE
PartitionName=urgent Nodes=n1,n2,n3 PriorityTier=10 MaxTime=INFINITE State=UP'
slurm_test_cluster requeue generations=2 cr_restart=$B/util/cr_restart agent=$B/slurm_checkpoint/cr_agent \
    cr_checkpoint=$B/util/cr_checkpoint batch_bin=$B/slurm_checkpoint/batch
STEPS=300
SC=(SCONTROL_CR_AGENT=$B/slurm_checkpoint/cr_agent SCONTROL_CR_CHECKPOINT=$B/util/cr_checkpoint
    timeout 300 "$B/scontrol-helpers/scontrol-cr")

serial_batch_job $STEPS "$D/ref"

# requeue_now JOB HOW: requeue the running JOB by HOW; it starts again at once
requeue_now() {
    local job=$1 how=$2 restarts
    restarts=$(timeout 10 scontrol show job "$job" | sed -n 's/.* Restarts=\([0-9]*\) .*/\1/p')
    case $how in
        checkpoint) cluster_run "${SC[@]}" checkpoint requeue "$job" 2> "$D/requeue.err" ||
                        fail "checkpoint requeue failed: $(cat "$D/requeue.err")" ;;
        scontrol) cluster_run timeout 30 scontrol requeue "$job" || fail "scontrol requeue failed" ;;
        preempt) # a job of the urgent partition wants the whole node
            host=$(timeout 10 scontrol show job "$job" | sed -n 's/.* BatchHost=\([^ ]*\).*/\1/p')
            cluster_run sbatch --parsable -p urgent --exclusive -w "$host" -o /dev/null --wrap "sleep 1" >/dev/null ||
                fail "the urgent job was not submitted" ;;
    esac
    for i in $(seq 1 300); do
        timeout 10 scontrol show job "$job" | grep -q "Restarts=$((restarts + 1)) " && break
        sleep 0.2
    done
}

# newer_gen JOB N: until JOB has a complete generation newer than gen.N; prints its number
newer_gen() {
    local l
    for i in $(seq 1 600); do
        l=$(readlink "$S/ck/$1/latest" 2>/dev/null) && [ "${l#gen.}" -gt "$2" ] && { echo "${l#gen.}"; return 0; }
        sleep 0.2
    done
    fail "job $1: no checkpoint newer than gen.$2 within 120 s: $(cat "$S/ck/$1/errors.log" 2>&1)"
}

# run_and_requeue OUTDIR HOW TIMES: a job with periodic checkpoints, requeued TIMES
# times by HOW, each time once it has a checkpoint of its own
run_and_requeue() {
    local out=$1 how=$2 times=$3 job g=1 k
    cluster_run mkdir -p "$out"
    job=$(cluster_run sbatch --parsable --checkpoint=0:02 --checkpoint-dir="$S/ck" "$S/job.sh" "$out") ||
        fail "sbatch failed"
    for k in $(seq 1 "$times"); do
        g=$(newer_gen "$job" "$g") || exit 1
        requeue_now "$job" "$how"
        [ "$(wc -l < "$out/rank.0")" -lt $STEPS ] || fail "job $job finished before it was requeued ($k)"
    done
    st=$(cluster_wait_job "$job" 240) || fail "the requeued job $job ended as $st: $(cat "$S/slurm-$job.out")"
    timeout 10 scontrol show job "$job" | grep -q "Restarts=$times " || fail "job $job was not requeued $times times"
    [ "$(cat "$out/runs")" = run ] || fail "job $job: the script started $(wc -l < "$out/runs") times"
    [ "$(grep -c '"event":"RSTRT_END"' "$S/ck/$job/events.jsonl")" = "$times" ] ||
        fail "job $job: not $times RSTRT_END events: $(cat "$S/ck/$job/events.jsonl")"
    cmp "$out/rank.0" "$D/ref/rank.0" || fail "job $job: the program's output differs from an uninterrupted run"
    head -c "$(stat -c %s "$D/ref.out")" "$S/slurm-$job.out" | cmp - "$D/ref.out" ||
        fail "job $job: the script's output differs from an uninterrupted run: $(od -c "$S/slurm-$job.out" | head)"
}
run_and_requeue "$S/one" checkpoint 1
run_and_requeue "$S/two" scontrol 2
run_and_requeue "$S/three" preempt 1
pass
