#!/bin/bash
# scontrol checkpoint on a 3-node, 6-task step, through scontrol-cr and its node agent:
# able/disable/enable/error and create as the job user (with its progress on a
# terminal, none with -Q or on a file; one that waits for another requester's
# checkpoint of a rank to end), refusal for another user, root
# acting as the owner even of a job whose name poses as Slurm's fields; a
# vacate ends the step with every rank checkpointed, and a new job restarts from it
# (srun --restart-dir), is checkpointed again while it runs, and finishes as an
# uninterrupted run does.  A step with a task that
# cannot be checkpointed (not preloaded): create fails naming node, rank and reason,
# `error` reports it, and the step keeps running; a vacate fails the same way and
# the ranks it had stopped go on.
. "$top_srcdir/tests/slurm/lib.sh"
slurm_test_cluster scontrol cr_restart=$top_builddir/util/cr_restart agent=$top_builddir/slurm_checkpoint/cr_agent
P=$B/tests/programs/rankcount
STEPS=400 # (100 ms each) long enough for every check before the vacate on a loaded machine (100 ended first)
SC=(SCONTROL_CR_AGENT=$B/slurm_checkpoint/cr_agent SCONTROL_CR_CHECKPOINT=$B/util/cr_checkpoint
    SCONTROL_CR_INFO=$B/util/cr_info timeout 300 "$B/scontrol-helpers/scontrol-cr")
other=crother
id "$other" >/dev/null 2>&1 || useradd -M -s /bin/bash "$other" || fail "cannot create the user $other"

ranks_reference $STEPS

# start_step DIR [VAR=value...] -- [SRUN OPTIONS...]: a 6-rank step writing into DIR;
# sets job and srun_pid
start_step() {
    local out=$1 envs=()
    shift
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    cluster_run mkdir -p "$out"
    cluster_run "${envs[@]}" timeout 200 srun "$@" -N3 -n6 --checkpoint-dir="$S/ck" "$P" "$out" $steps 100 \
        > "$out.srun.out" 2> "$out.srun.err" &
    srun_pid=$!
    job=
    for i in $(seq 1 300); do
        job=$(timeout 10 squeue -h -u "$CLUSTER_USER" -t R -o %i | sort -n | tail -n 1)
        [ -n "$job" ] && [ "$(cat "$out"/rank.* 2>/dev/null | wc -l)" -ge 60 ] && return 0
        sleep 0.2
    done
    fail "the step did not start writing: $(cat "$out.srun.err")"
}
lines() { cat "$1"/rank.* | wc -l; }

# with periodic checkpoints too: the writer must not keep the vacated step alive
"$B/scontrol-helpers/scontrol-cr" --help | grep -q "checkpoint OPERATION" || fail "scontrol-cr --help"
"$B/slurm_checkpoint/cr_agent" --help | grep -q "cr_agent checkpoint" || fail "cr_agent --help"
steps=$STEPS
# its name poses as Slurm's own fields: root must still act as the job's owner
start_step "$S/run" -- --checkpoint=0:03 -J "spoof UserId=root(0) JobState=PENDING BatchFlag=1"
# other commands go to the real scontrol
cluster_run "${SC[@]}" show job "$job" | grep -q "JobId=$job " || fail "scontrol-cr show job did not pass through"
out=$(cluster_run "${SC[@]}" checkpoint able "$job.0" 2>&1); [ "$out" = Yes ] || fail "able said: $out"
cluster_run "${SC[@]}" checkpoint disable "$job.0" || fail "disable failed"
out=$(cluster_run "${SC[@]}" checkpoint able "$job.0" 2>&1); [ "$out" = No ] || fail "able after disable said: $out"
out=$(cluster_run "${SC[@]}" checkpoint create "$job.0" 2>&1) && fail "create while disabled succeeded"
echo "$out" | grep -q "presently disabled" || fail "create while disabled said: $out"
cluster_run "${SC[@]}" checkpoint enable "$job.0" || fail "enable failed"
out=$(cluster_run "${SC[@]}" checkpoint able "$job.0" 2>&1); [ "$out" = Yes ] || fail "able after enable said: $out"
out=$(cluster_run "${SC[@]}" checkpoint frob "$job.0" 2>&1) && fail "an unknown operation was accepted"
echo "$out" | grep -q "Invalid checkpoint operation: frob" || fail "unknown operation, it said: $out"

# root acts as the owner
out=$(env "${SC[@]}" checkpoint able "$job.0" 2>&1); [ "$out" = Yes ] || fail "able as root said: $out"

# another user is refused, before anything reaches the nodes
out=$(cd / && runuser -u "$other" -- env SLURM_CONF="$SLURM_CONF" "${SC[@]}" checkpoint create "$job.0" 2>&1) &&
    fail "$other could checkpoint $CLUSTER_USER's job"
echo "$out" | grep -q "Access/permission denied" || fail "$other was refused with: $out"

cluster_run "${SC[@]}" checkpoint create "$job.0" 2> "$D/create.err" || fail "create failed: $(cat "$D/create.err")"
img=$S/ck/$job.0
readlink "$img/latest" > /dev/null || fail "create left no latest generation"
# the generation create made (a periodic one may have completed since)
latest=gen.$(python3 -c 'import json, sys
print(max(e["generation"] for e in map(json.loads, open(sys.argv[1]))
          if e.get("request") == "scontrol" and e["event"] == "CHKPT_END"))' "$img/events.jsonl") ||
    fail "create logged no CHKPT_END: $(cat "$img/events.jsonl")"
grep -qx "tasks 6" "$img/$latest/manifest" && grep -qx "nodes 3" "$img/$latest/manifest" ||
    fail "the created generation is not the whole step: $(cat "$img/$latest/manifest")"
out=$(cluster_run "${SC[@]}" checkpoint error "$job.0" 2>&1); [ "$out" = "error(0): none" ] || fail "error said: $out"
# list: the generations, the one create made complete, with its 6 tasks on 3 nodes
cluster_run "${SC[@]}" checkpoint list "$job.0" > "$D/list.out" 2>&1 || fail "list failed: $(cat "$D/list.out")"
grep -Eq "^  $latest +complete .* 6 tasks on 3 nodes" "$D/list.out" || fail "list does not show $latest: $(cat "$D/list.out")"
grep -q "latest gen\.[0-9]" "$D/list.out" || fail "list does not name the latest generation: $(cat "$D/list.out")"
# each node's part is a CHKPT_BEGIN / CHKPT_END pair of the request
python3 - "$img/events.jsonl" "${latest#gen.}" <<'PYEOF' || fail "the request's events are not right: $(cat "$img/events.jsonl")"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
mine = [e for e in ev if e.get("request") == "scontrol" and e["generation"] == int(sys.argv[2])]
b = sorted(e["node"] for e in mine if e["event"] == "CHKPT_BEGIN")
d = sorted(e["node"] for e in mine if e["event"] == "CHKPT_END" and e["bytes"] > 0)
assert b == d == ["n1", "n2", "n3"], (b, d)
PYEOF
! grep -q "written:" "$D/create.err" || fail "create showed progress on a file: $(cat "$D/create.err")"
# on a terminal, create shows how much is written (at once here: CR_PROGRESS_AFTER_MS=0),
# and of about how much (the latest generation's size); -Q silences it
if command -v script > /dev/null; then
    cmd=$(printf '%q ' "${SC[@]}")
    cluster_run CR_PROGRESS_AFTER_MS=0 timeout 300 script -qec "$cmd checkpoint create $job.0" /dev/null \
        > "$D/tty.out" 2>&1 || fail "create on a terminal failed: $(cat "$D/tty.out")"
    grep -aEq "checkpoint create $job\.0: written: [0-9.]+ (B|KiB|MiB|GiB) of about [0-9.]+ (B|KiB|MiB|GiB), .*/s" \
        "$D/tty.out" || fail "no progress line on the terminal: $(od -c "$D/tty.out" | head)"
    cluster_run CR_PROGRESS_AFTER_MS=0 timeout 300 script -qec "$cmd -Q checkpoint create $job.0" /dev/null \
        > "$D/tty_q.out" 2>&1 || fail "create -Q on a terminal failed: $(cat "$D/tty_q.out")"
    ! grep -aq "written:" "$D/tty_q.out" || fail "scontrol -Q checkpoint create still showed progress"
fi
# a create while a rank is being checkpointed for another requester (as when a
# periodic generation is under way): it waits for that one to end (CHKPT_WAIT in the
# events), then succeeds.  The other checkpoint is held by writing its image into a
# pipe nobody reads until the file go exists.
rp=$(pgrep -u "$CLUSTER_USER" -f "^$P $S/run " | head -n 1)
[ -n "$rp" ] || fail "no rank process of the step"
cluster_run bash -c "exec $B/util/cr_checkpoint -F 3 $rp 3> >(until [ -e $S/go ]; do sleep 0.1; done; cat > /dev/null)" \
    > "$D/hold.out" 2>&1 &
holder=$!
i=0; until grep -q "^cr-busy:" /proc/$rp/task/*/comm 2>/dev/null; do
    i=$((i + 1)); [ $i -le 600 ] || fail "the other checkpoint of rank process $rp did not begin: $(cat "$D/hold.out")"
    sleep 0.05
done
waits=$(grep -c '"CHKPT_WAIT"' "$img/events.jsonl")
cluster_run "${SC[@]}" checkpoint create "$job.0" 2> "$D/create_busy.err" &
creator=$!
i=0; until [ "$(grep -c '"CHKPT_WAIT"' "$img/events.jsonl")" -gt "$waits" ]; do
    i=$((i + 1)); [ $i -le 1200 ] || fail "create did not wait for the other checkpoint: $(cat "$D/create_busy.err")"
    kill -0 $creator 2>/dev/null || fail "create ended without waiting for the other checkpoint: $(cat "$D/create_busy.err")"
    sleep 0.05
done
touch "$S/go"
timeout 120 tail --pid=$holder -f /dev/null || fail "the other checkpoint did not end once let go"
wait $holder || fail "the other checkpoint failed: $(cat "$D/hold.out")"
timeout 300 tail --pid=$creator -f /dev/null || fail "create did not end after the other checkpoint"
wait $creator || fail "create failed while another checkpoint was under way: $(cat "$D/create_busy.err")"
n=$(lines "$S/run"); sleep 1
[ "$(lines "$S/run")" -gt "$n" ] || fail "the step did not go on after create"

# vacate: checkpoint, stop, end; srun must end (bounded)
cluster_run "${SC[@]}" checkpoint vacate "$job.0" MaxWait=20 2> "$D/vacate.err" || fail "vacate failed: $(cat "$D/vacate.err")"
timeout 60 tail --pid=$srun_pid -f /dev/null || fail "srun did not end within 60 s of the vacate"
wait $srun_pid
latest=$(readlink "$img/latest")
for r in 0 1 2 3 4 5; do
    [ "$(wc -l < "$S/run/rank.$r")" -lt $STEPS ] || fail "rank $r finished before the vacate"
done
# the restarted step (its tasks are cr_restart) can be checkpointed again while it runs
n=$(lines "$S/run")
cluster_run timeout 120 srun -N3 -n6 --restart-dir="$img" --checkpoint-dir="$S/ck3" "$P" "$S/fresh" 3 0 \
    > "$D/restart.out" 2> "$D/restart.err" &
srun_pid=$!
for i in $(seq 1 300); do [ "$(lines "$S/run")" -gt $((n + 6)) ] && break; sleep 0.1; done
job2=$(timeout 10 squeue -h -u "$CLUSTER_USER" -t R -o %i | sort -n | tail -n 1)
cluster_run "${SC[@]}" checkpoint create "$job2.0" 2> "$D/create2.err" ||
    fail "create on the restarted step failed: $(cat "$D/create2.err")"
grep -qx "tasks 6" "$S/ck3/$job2.0/latest/manifest" || fail "no complete generation of the restarted step"
timeout 120 tail --pid=$srun_pid -f /dev/null
wait $srun_pid || fail "the restart from the vacated step failed: $(cat "$D/restart.err")"
[ ! -e "$S/fresh" ] || fail "the step started afresh instead of restarting"
same_as_ranks_reference "$S/run" "$D/restart.out"

# a task that cannot be checkpointed: reported with node, rank and reason; the step goes on
steps=600 # long enough for every check below
start_step "$S/bare" RANKCOUNT_BARE=3 --
out=$(cluster_run "${SC[@]}" checkpoint create "$job.0" 2>&1) && fail "create succeeded with rank 3 not preloaded"
echo "$out" >&2
echo "$out" | grep -q "node n2 rank 3: .*(errno [1-9][0-9]*)" || fail "the failure does not name node n2, rank 3 and why: $out"
out=$(cluster_run "${SC[@]}" checkpoint error "$job.0" 2>&1)
echo "$out" | grep -q "^error([1-9][0-9]*): .*node n2 rank 3" || fail "error said: $out"
ls -d "$S/ck/$job.0"/gen.*.tmp 2>/dev/null && fail "the failed generation was left behind"
n=$(lines "$S/bare"); sleep 1
[ "$(lines "$S/bare")" -gt "$n" ] && kill -0 $srun_pid 2>/dev/null || fail "the step did not go on after the failed create"
# a failed vacate ends nothing: the ranks it stopped go on
out=$(cluster_run "${SC[@]}" checkpoint vacate "$job.0" 2>&1) && fail "vacate succeeded with rank 3 not preloaded"
echo "$out" | grep -q "node n2 rank 3: " || fail "the failed vacate said: $out"
sleep 1
for r in 0 1 2 3 4 5; do
    n=$(wc -l < "$S/bare/rank.$r")
    for i in $(seq 1 50); do [ "$(wc -l < "$S/bare/rank.$r")" -gt "$n" ] && break; sleep 0.1; done
    [ "$(wc -l < "$S/bare/rank.$r")" -gt "$n" ] || fail "rank $r stays stopped after the failed vacate"
done
timeout 20 scancel "$job"
timeout 60 tail --pid=$srun_pid -f /dev/null || fail "srun did not end after scancel"
pass
