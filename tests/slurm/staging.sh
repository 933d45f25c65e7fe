#!/bin/bash
# Staging (plugstack.conf scratch_dir=DIR/%n): a 3-node, 6-task step with periodic
# checkpoints writes each task's file to its node's scratch dir first, as the job
# user, then into the shared generation (copied, synced, read back and compared);
# nothing is left in scratch.  scontrol checkpoint create stages the same way.  A full
# scratch dir on one node (a 16 KiB tmpfs) makes that node's generations fail with
# ENOSPC named in errors.log and in `scontrol checkpoint error` (node, rank, errno 28),
# no incomplete generation is used, the previous complete one stays, and the step goes
# on; with room again checkpoints resume.  A restart from the latest generation
# matches an uninterrupted run.  A full shared checkpoint dir fails a create the same
# way (ENOSPC, node and rank named), and the generation before it restarts.
. "$top_srcdir/tests/slurm/lib.sh"
B=$top_builddir
SCR=$(mktemp -d /tmp/slurm-cr-scratch.XXXXXX)
slurm_test_cluster staging generations=2 scratch_dir=$SCR/%n cr_restart=$B/util/cr_restart \
    agent=$B/slurm_checkpoint/cr_agent
chown "$CLUSTER_USER" "$SCR"
P=$B/tests/programs/rankcount
STEPS=300
SC=(SCONTROL_CR_AGENT=$B/slurm_checkpoint/cr_agent SCONTROL_CR_CHECKPOINT=$B/util/cr_checkpoint
    timeout 300 "$B/scontrol-helpers/scontrol-cr")
ranks_reference $STEPS

cluster_run mkdir -p "$S/run"
cluster_run timeout 200 srun -N3 -n6 --checkpoint=0:02 --checkpoint-dir="$S/ck" "$P" "$S/run" $STEPS 100 \
    > "$D/first.out" 2> "$D/first.err" &
srun_pid=$!
first_generation "$S/ck" "$D/first.err"
for n in n1 n2 n3; do
    [ -d "$SCR/$n/$job.0" ] && [ "$(stat -c %U "$SCR/$n/$job.0")" = "$CLUSTER_USER" ] ||
        fail "no scratch dir of the job user on $n: $(ls -laR "$SCR" 2>&1)"
done
for r in 0 1 2 3 4 5; do
    cluster_run "$B/util/cr_info" -q "$img/latest/task.$r.ckpt" || fail "staged task.$r.ckpt is not valid"
done
cluster_run "${SC[@]}" checkpoint create "$job.0" 2> "$D/create.err" || fail "create failed: $(cat "$D/create.err")"
grep -q '"request":"scontrol"' "$img/events.jsonl" || fail "no event of the create"

# scratch of n2 full: its part fails with ENOSPC, nothing incomplete is used
mount -t tmpfs -o size=16k,mode=0700,uid="$(id -u "$CLUSTER_USER")" tmpfs "$SCR/n2" || fail "cannot mount a tmpfs on $SCR/n2"
good=$(readlink "$img/latest")
sleep 5
grep -q "No space left on device" "$img/errors.log" || fail "no ENOSPC in errors.log: $(cat "$img/errors.log")"
out=$(cluster_run "${SC[@]}" checkpoint create "$job.0" 2>&1) && fail "create succeeded with a full scratch dir"
echo "$out" | grep -q "node n2 rank [23]: .*(errno 28)" || fail "the failed create said: $out"
cluster_run "${SC[@]}" checkpoint error "$job.0" | grep -q "^error(28): .*n2" || fail "error does not report ENOSPC"
cluster_run "$B/util/cr_info" -q "$img/$(readlink "$img/latest")/task.2.ckpt" || fail "the latest generation is not valid"
[ "$(readlink "$img/latest")" = "$good" ] || grep -q "task 2 task.2.ckpt n2" "$img/latest/manifest" ||
    fail "a generation without n2's part completed"
kill -0 $srun_pid || fail "the step did not go on"
# a periodic checkpoint may be writing into it at this moment (busy): retry, bounded
for i in $(seq 1 150); do umount "$SCR/n2" 2>/dev/null && break; sleep 0.2; done
mountpoint -q "$SCR/n2" && fail "cannot unmount $SCR/n2: $(umount "$SCR/n2" 2>&1)"
for i in $(seq 1 100); do [ "$(readlink "$img/latest")" != "$good" ] && break; sleep 0.2; done
l=$(readlink "$img/latest"); [ "${l#gen.}" -gt "${good#gen.}" ] || fail "checkpoints did not resume with room again"

timeout 20 scancel "$job"
timeout 60 tail --pid=$srun_pid -f /dev/null || fail "srun did not end after scancel"
left=$(find "$SCR" -name '*.ckpt*')
[ -z "$left" ] || fail "files left in scratch: $left"
cluster_run timeout 200 srun -N3 -n6 --restart-dir="$img" "$P" "$S/fresh" 3 0 > "$D/restart.out" 2> "$D/restart.err" ||
    fail "the restart failed: $(cat "$D/restart.err")"
same_as_ranks_reference "$S/run" "$D/restart.out"

# the shared checkpoint dir full (a 2 MiB tmpfs: one generation of six ~200 KiB files
# fits, a second beside it does not): the create fails with ENOSPC naming a node and a
# rank, the first generation stays the latest and nothing of the second is left, the
# step goes on; a restart from the first matches an uninterrupted run
FULL=$(mktemp -d /tmp/slurm-cr-full.XXXXXX)
chmod 755 "$FULL"
mount -t tmpfs -o size=2m,mode=0700,uid="$(id -u "$CLUSTER_USER")" tmpfs "$FULL" || fail "cannot mount a tmpfs on $FULL"
trap 'slurm_test_cleanup; umount "$FULL" 2>/dev/null' EXIT
cluster_run mkdir -p "$S/run2"
cluster_run timeout 200 srun -N3 -n6 --checkpoint-dir="$FULL" "$P" "$S/run2" $STEPS 100 \
    > "$D/full.out" 2> "$D/full.err" &
srun_pid=$!
for i in $(seq 1 300); do
    job=$(timeout 10 squeue -h -u "$CLUSTER_USER" -t R -o %i | head -n 1)
    [ -n "$job" ] && [ "$(cat "$S"/run2/rank.* 2>/dev/null | wc -l)" -ge 30 ] && break
    sleep 0.2
done
img=$FULL/$job.0
cluster_run "${SC[@]}" checkpoint create "$job.0" 2> "$D/create.err" || fail "the first create failed: $(cat "$D/create.err")"
good=$(readlink "$img/latest") || fail "the first create left no latest generation"
out=$(cluster_run "${SC[@]}" checkpoint create "$job.0" 2>&1) && fail "a create into a full checkpoint dir succeeded"
echo "$out" >&2
echo "$out" | grep -q "node n[123] rank [0-5]: .*(errno 28)" || fail "the failure does not name node, rank and ENOSPC: $out"
[ "$(readlink "$img/latest")" = "$good" ] || fail "latest moved from $good"
ls -d "$img"/gen.*.tmp 2>/dev/null && fail "the failed generation was left behind"
n=$(cat "$S"/run2/rank.* | wc -l); sleep 1
[ "$(cat "$S"/run2/rank.* | wc -l)" -gt "$n" ] || fail "the step did not go on after the failed create"
timeout 20 scancel "$job"
timeout 60 tail --pid=$srun_pid -f /dev/null || fail "srun did not end after scancel"
cluster_run timeout 200 srun -N3 -n6 --restart-dir="$img" "$P" "$S/fresh" 3 0 > "$D/restart2.out" 2> "$D/restart2.err" ||
    fail "the restart from $good failed: $(cat "$D/restart2.err")"
same_as_ranks_reference "$S/run2" "$D/restart2.out"
umount "$FULL" && rmdir "$FULL"
rm -rf "$SCR"
pass
