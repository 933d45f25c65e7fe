#!/bin/bash
# Batch jobs: `sbatch --checkpoint=0:02 job.sh`, whose script runs a long serial
# program itself (no srun), gets periodic checkpoints of the script's whole process
# tree in <dir>/<jobid>/gen.N (script.ckpt, a copy of the script, a manifest);
# `scontrol checkpoint vacate <jobid>` checkpoints it and ends the job mid-computation;
# `sbatch --restart-dir=<dir>/<jobid> job.sh` resumes it (the script is not run
# again; the restarted script is checkpointed, vacated and resumed again), and so does
# `scontrol checkpoint restart <jobid>` from the saved, munge-signed record; outputs
# match an uninterrupted run (after sbatch --restart-dir the script's goes on in the
# new job's slurm-<id>.out, after checkpoint restart in the saved job's own file).  Refused: restart of a record that was
# changed, of a directory of another user, and sbatch --restart-dir of a missing
# directory (the script does not run).
. "$top_srcdir/tests/slurm/lib.sh"
B=$top_builddir
slurm_test_cluster batch generations=2 cr_restart=$B/util/cr_restart agent=$B/slurm_checkpoint/cr_agent \
    cr_checkpoint=$B/util/cr_checkpoint batch_bin=$B/slurm_checkpoint/batch
STEPS=300 # (100 ms each) room for the restarted jobs to be checkpointed on a loaded machine (160: the resumed job ended first)
SC=(SCONTROL_CR_AGENT=$B/slurm_checkpoint/cr_agent SCONTROL_CR_CHECKPOINT=$B/util/cr_checkpoint
    timeout 300 "$B/scontrol-helpers/scontrol-cr")
other=crother
id "$other" >/dev/null 2>&1 || useradd -M -s /bin/bash "$other" || fail "cannot create the user $other"

# the uninterrupted reference: what the script prints, and the program's output file
serial_batch_job $STEPS "$D/ref"

# submit OUTDIR: a job writing into OUTDIR; sets job
submit() {
    cluster_run mkdir -p "$1"
    job=$(cluster_run sbatch --parsable --checkpoint=0:02 --checkpoint-dir="$S/ck" "$S/job.sh" "$1") ||
        fail "sbatch failed"
}
# wait_gen DIR N: until DIR/latest is generation N or later
wait_gen() {
    for i in $(seq 1 300); do
        l=$(readlink "$1/latest" 2>/dev/null) && [ "${l#gen.}" -ge "$2" ] && return 0
        sleep 0.2
    done
    fail "no generation $2 in $1 within 60 s: $(ls -la "$1" 2>&1; cat "$1/errors.log" 2>&1)"
}
# same_as_reference JOB OUTDIR (slurmstepd's own line about the vacate's cancel is in the
# output file too, before what the restarted script appends to it: O_APPEND)
same_as_reference() {
    cmp "$2/rank.0" "$D/ref/rank.0" || fail "the program's output of job $1 differs from an uninterrupted run"
    grep -v '^slurmstepd-[^:]*: error: \*\*\* JOB [0-9]* ON [^ ]* CANCELLED AT' "$S/slurm-$1.out" |
        head -c "$(stat -c %s "$D/ref.out")" | cmp - "$D/ref.out" ||
        fail "the batch script's output of job $1 differs from an uninterrupted run: $(cat "$S/slurm-$1.out")"
}

# periodic checkpoints of the tree, then a vacate
submit "$S/run1"
img=$S/ck/$job
wait_gen "$img" 2
[ "$(stat -c %U "$img")" = "$CLUSTER_USER" ] || fail "the batch images do not belong to the job user"
grep -qx "task 0 script.ckpt n[123]" "$img/latest/manifest" || fail "the manifest: $(cat "$img/latest/manifest")"
cmp "$img/latest/slurm_script" "$S/job.sh" || fail "the generation holds no copy of the batch script"
cluster_run "$B/util/cr_info" -q "$img/latest/script.ckpt" || fail "script.ckpt is not valid"
# a bare job id is the batch script: able, disable (periodic ones stop too), enable
out=$(cluster_run "${SC[@]}" checkpoint able "$job" 2>&1); [ "$out" = Yes ] || fail "able said: $out"
cluster_run "${SC[@]}" checkpoint disable "$job" || fail "disable failed"
out=$(cluster_run "${SC[@]}" checkpoint able "$job" 2>&1); [ "$out" = No ] || fail "able after disable said: $out"
out=$(cluster_run "${SC[@]}" checkpoint create "$job" 2>&1) && fail "create while disabled succeeded"
echo "$out" | grep -q "presently disabled" || fail "create while disabled said: $out"
l=$(readlink "$img/latest"); sleep 3
[ "$(readlink "$img/latest")" = "$l" ] || fail "periodic checkpoints went on while disabled"
cluster_run "${SC[@]}" checkpoint enable "$job" || fail "enable failed"
cluster_run "${SC[@]}" checkpoint create "$job" 2> "$D/create.err" || fail "create failed: $(cat "$D/create.err")"
out=$(cluster_run "${SC[@]}" checkpoint error "$job" 2>&1); [ "$out" = "error(0): none" ] || fail "error said: $out"
cluster_run "${SC[@]}" checkpoint vacate "$job" 2> "$D/vacate.err" || fail "vacate failed: $(cat "$D/vacate.err")"
st=$(cluster_wait_job "$job" 30); [ "$st" != COMPLETED ] && [ "${st#*timed out}" = "$st" ] || fail "the vacated job ended as $st"
cp "$S/slurm-$job.out" "$D/vacated.out"
n=$(wc -l < "$S/run1/rank.0")
[ "$n" -gt 20 ] && [ "$n" -lt $STEPS ] || fail "the job was vacated after $n of $STEPS steps"
grep -q '"request":"scontrol"' "$img/events.jsonl" || fail "no event of the vacate's checkpoint"
[ -f "$img/job.record" ] && [ -f "$img/job.record.cred" ] || fail "the vacate saved no job record"

# a step's images are not a batch script's
out=$(cluster_run timeout 30 sbatch --wait --restart-dir="$S/nothing" "$S/job.sh" "$S/never" 2>&1) &&
    fail "sbatch --restart-dir of a missing directory succeeded"
[ ! -e "$S/never" ] || fail "the script ran although its restart failed"

# sbatch --restart-dir resumes it: the script is not run again (its argument differs);
# the restarted script is checkpointed in turn, vacated, and resumed once more
job2=$(cluster_run sbatch --parsable --checkpoint=0:02 --checkpoint-dir="$S/ck" --restart-dir="$img" \
    "$S/job.sh" "$S/fresh") || fail "sbatch --restart-dir failed"
wait_gen "$S/ck/$job2" 1
cluster_run "${SC[@]}" checkpoint vacate "$job2" 2> "$D/vacate2.err" || fail "vacate of the restarted job failed: $(cat "$D/vacate2.err")"
st=$(cluster_wait_job "$job2" 30); [ "$st" != COMPLETED ] && [ "${st#*timed out}" = "$st" ] || fail "the vacated restarted job ended as $st"
[ "$(wc -l < "$S/run1/rank.0")" -lt $STEPS ] || fail "the restarted job finished before its vacate"
grep -q '"event":"RSTRT_END"' "$img/events.jsonl" || fail "no RSTRT_END event"
job2=$(cluster_run sbatch --parsable --restart-dir="$S/ck/$job2" "$S/job.sh" "$S/fresh") || fail "sbatch --restart-dir failed"
st=$(cluster_wait_job "$job2" 90) || fail "the job restarted twice ended as $st: $(cat "$S/slurm-$job.out" 2>&1)"
[ ! -e "$S/fresh" ] || fail "the batch script started afresh instead of resuming"
# each restarted job's output file holds the script's whole output; the old ones are left
same_as_reference "$job2" "$S/run1"
cmp "$S/slurm-$job.out" "$D/vacated.out" || fail "a restarted script wrote into the vacated job's output file"

# scontrol checkpoint restart: the saved job is submitted again and resumes
submit "$S/run2"
wait_gen "$S/ck/$job" 1
cluster_run "${SC[@]}" checkpoint vacate "$job" 2> "$D/vacate2.err" || fail "vacate failed: $(cat "$D/vacate2.err")"
cluster_wait_job "$job" 30 >/dev/null
img=$S/ck/$job
# another user may not; a changed record is refused
out=$(cd / && runuser -u "$other" -- env SLURM_CONF="$SLURM_CONF" "${SC[@]}" checkpoint restart "$job" ImageDir="$S/ck" 2>&1) &&
    fail "$other could restart $CLUSTER_USER's job"
echo "$out" | grep -qi "permission denied" || fail "$other was refused with: $out"
cp "$img/job.record" "$D/record"
cluster_run sed -i 's/^ntasks=.*/ntasks=2/' "$img/job.record"
out=$(env "${SC[@]}" checkpoint restart "$job" ImageDir="$S/ck" 2>&1) && fail "a changed record was submitted"
echo "$out" | grep -q "changed since" || fail "a changed record was refused with: $out"
cat "$D/record" > "$img/job.record"
# root restarts it, as the owner, on the nodes it had
out=$(env "${SC[@]}" checkpoint restart "$job" ImageDir="$S/ck" StickToNodes 2>&1) || fail "restart failed: $out"
job3=$(echo "$out" | sed -n 's/^Submitted batch job \([0-9]*\)$/\1/p')
[ -n "$job3" ] || fail "restart said: $out"
timeout 10 scontrol show job "$job3" | grep -q "UserId=$CLUSTER_USER(" || fail "the restarted job is not the owner's"
st=$(cluster_wait_job "$job3" 90) || fail "the job restarted by scontrol ended as $st"
# the saved job goes on in its own output file (the record's, appended to)
same_as_reference "$job" "$S/run2"
pass
