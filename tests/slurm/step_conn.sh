#!/bin/bash
# A connection between two tasks of a step, on two nodes (tests/programs/tcppair: a
# plain TCP client and server, with data waiting in the server's queue and answers in
# the client's): `scontrol checkpoint create` saves it at both ends (a stepconn record
# each, with what was queued to it) and the job goes on; after `scontrol checkpoint
# vacate`, `srun --restart-dir` in a new job connects the new tasks again (new ports)
# before either runs, the queued bytes first.  Both end as an uninterrupted run.
. "$top_srcdir/tests/slurm/lib.sh"
slurm_test_cluster step_conn cr_restart=$top_builddir/util/cr_restart agent=$top_builddir/slurm_checkpoint/cr_agent
P=$B/tests/programs/tcppair
SC=(SCONTROL_CR_AGENT=$B/slurm_checkpoint/cr_agent SCONTROL_CR_CHECKPOINT=$B/util/cr_checkpoint
    timeout 300 "$B/scontrol-helpers/scontrol-cr")
ITERS=60

cluster_run mkdir -p "$S/ref" "$S/create" "$S/vacate"
cluster_run timeout 120 srun -N2 -n2 "$P" "$S/ref" $ITERS 0 > "$S/ref.out" 2> "$D/ref.err" ||
    fail "the uninterrupted run failed: $(cat "$D/ref.err")"

# create: both ends saved, the job goes on
cluster_run timeout 200 srun -N2 -n2 --checkpoint-dir="$S/ck1" "$P" "$S/create" $ITERS 100 \
    > "$S/create.out" 2> "$D/create.err" &
srun_pid=$!
wait_lines "$S/create/rank.0" 15
running_job
cluster_run "${SC[@]}" checkpoint create "$job.0" 2> "$D/create.sc" || fail "create failed: $(cat "$D/create.sc")"
img=$S/ck1/$job.0
grep -qx "tasks 2" "$img/latest/manifest" || fail "the create made no complete generation"
for r in 0 1; do
    "$B/util/cr_info" "$img/latest/task.$r.ckpt" > "$D/info.$r" 2>&1 || fail "cr_info task.$r: $(cat "$D/info.$r")"
    grep -q "stepconn.*TCP connection 127.0.0.1:[0-9]* -> 127.0.0.1:[0-9]* to another task of the step" "$D/info.$r" ||
        fail "rank $r's image has no step connection: $(grep -i tcp "$D/info.$r")"
done
grep "stepconn" "$D/info.0" >&2
grep -q "stepconn.* [1-9][0-9]* bytes queued" "$D/info.0" || fail "no data in flight was saved with the server"
timeout 200 tail --pid=$srun_pid -f /dev/null || fail "the job did not end after the create"
wait $srun_pid || fail "the job failed after the create: $(cat "$D/create.err")"
same_as_reference "$S/ref" "$S/create" "$S/create.out" 2

# vacate, then a restart in a new job: the two tasks connect again
cluster_run timeout 200 srun -N2 -n2 --checkpoint-dir="$S/ck2" "$P" "$S/vacate" $ITERS 100 \
    > /dev/null 2> "$D/vacate.err" &
srun_pid=$!
wait_lines "$S/vacate/rank.0" 15
running_job
cluster_run "${SC[@]}" checkpoint vacate "$job.0" 2> "$D/vacate.sc" || fail "vacate failed: $(cat "$D/vacate.sc")"
timeout 60 tail --pid=$srun_pid -f /dev/null || fail "srun did not end after the vacate"
img=$S/ck2/$job.0
grep -qx "tasks 2" "$img/latest/manifest" || fail "the vacate made no complete generation"
n=$(wc -l < "$S/vacate/rank.0")
[ "$n" -lt $((ITERS * 3 / 2)) ] || fail "rank 0 finished before the vacate"
cluster_run timeout 200 srun -N2 -n2 --restart-dir="$img" "$P" "$S/fresh" 3 0 > "$S/restart.out" 2> "$D/restart.err" ||
    fail "the restarted step failed: $(cat "$D/restart.err")"
[ ! -e "$S/fresh" ] || fail "the step started afresh instead of restarting"
same_as_reference "$S/ref" "$S/vacate" "$S/restart.out" 2
[ -z "$(ls -A "$img"/meet.* 2>/dev/null)" ] || fail "the tasks left files where they met: $(ls -R "$img"/meet.*)"

# a connection to the outside of the step (the test itself, as a client of rank 0):
# refused at checkpoint naming node, rank and connection; the job goes on
cluster_run mkdir -p "$S/outside"
cluster_run timeout 200 srun -N1 -n1 --checkpoint-dir="$S/ck3" "$P" "$S/outside" 1000 100 \
    > /dev/null 2> "$D/outside.err" &
srun_pid=$!
for i in $(seq 1 300); do [ -s "$S/outside/port" ] && break; sleep 0.2; done
port=$(cat "$S/outside/port") || fail "rank 0 did not listen: $(cat "$D/outside.err")"
exec 7<>"/dev/tcp/127.0.0.1/$port" || fail "cannot connect to rank 0"
printf '%01500d' 0 >&7
wait_lines "$S/outside/rank.0" 1
running_job
out=$(cluster_run "${SC[@]}" checkpoint create "$job.0" 2>&1) && fail "a create with a connection to the outside succeeded"
echo "$out" >&2
echo "$out" | grep -q "node n1 rank 0: fd [0-9]* is a TCP connection 127.0.0.1:$port -> 127.0.0.1:[0-9]* that leads outside the step" ||
    fail "the refusal does not name node, rank and connection: $out"
kill -0 $srun_pid 2>/dev/null || fail "the job did not go on after the refused create"
exec 7>&-
timeout 20 scancel "$job"
timeout 60 tail --pid=$srun_pid -f /dev/null
pass
