#!/bin/bash
# Restart at launch: a 3-node, 6-task step run with --checkpoint is cancelled midway;
# a new job's `srun -N3 -n6 --restart-dir=<dir>/<jobid>.<stepid>` resumes every rank
# (and is checkpointed again periodically)
# from the latest complete generation (not a fresh start: its arguments would write
# elsewhere), and each rank's output file and final line match an uninterrupted run; its
# tasks are cr_restart in front of srun's command (spank_prepend_task_argv, Slurm 23.11+)
# or exec'd by the plugin (22.05).
# RSTRT_BEGIN/RSTRT_END per rank in the step's events.  Refused with a message that
# names the problem and the way out, no task starting: another task count, a missing
# directory, one without a complete generation (only gen.N with its manifest counts).
. "$top_srcdir/tests/slurm/lib.sh"
slurm_test_cluster restart_dir generations=3 cr_restart=$top_builddir/util/cr_restart agent=$top_builddir/slurm_checkpoint/cr_agent
P=$B/tests/programs/rankcount
STEPS=120

# the reference: every rank uninterrupted (the output does not depend on the delay)
ranks_reference $STEPS

# the step to interrupt
cluster_run mkdir -p "$S/run" "$S/ck"
cluster_run timeout 120 srun -N3 -n6 --checkpoint=0:02 --checkpoint-dir="$S/ck" \
    "$P" "$S/run" $STEPS 100 > "$D/first.out" 2> "$D/first.err" &
srun_pid=$!
first_generation "$S/ck" "$D/first.err"
# a second generation, so that the restart is not from the very beginning
first=$(readlink "$img/latest")
for i in $(seq 1 100); do
    [ "$(readlink "$img/latest")" != "$first" ] && break
    sleep 0.2
done
timeout 20 scancel "$job" || fail "scancel $job failed"
timeout 60 tail --pid=$srun_pid -f /dev/null || fail "srun of the cancelled job did not end within 60 s"
wait $srun_pid
latest=$(readlink "$img/latest")
cat "$img/$latest/manifest" >&2
grep -qx "tasks 6" "$img/$latest/manifest" || fail "the latest generation does not hold 6 tasks"
grep -qx "nodes 3" "$img/$latest/manifest" || fail "the latest generation was not written by 3 nodes"
for n in n1 n2 n3; do
    grep -q " $n\$" "$img/$latest/manifest" || fail "no task of $n in the manifest"
done
for r in 0 1 2 3 4 5; do
    k=$(wc -l < "$S/run/rank.$r")
    [ "$k" -lt $STEPS ] || fail "rank $r finished before it was cancelled"
done
[ ! -s "$img/errors.log" ] || fail "the writer reported errors: $(cat "$img/errors.log")"

# refusals: the way out is named, no task starts
out=$(cluster_run timeout 60 srun -N3 -n4 --restart-dir="$img" "$P" "$S/wrong" 5 0 2>&1) &&
    fail "a 4-task step restarted from a 6-task checkpoint: $out"
echo "$out" >&2
echo "$out" | grep -q "holds 6 tasks, this step has 4: restart it with -n6" || fail "wrong task count, srun said: $out"
[ ! -e "$S/wrong" ] || fail "a task of the refused step ran"
out=$(cluster_run timeout 60 srun -N1 -n1 --restart-dir="$S/ck/nosuch.0" "$P" "$S/wrong" 5 0 2>&1) &&
    fail "a restart from a missing directory started: $out"
echo "$out" | grep -q "$S/ck/nosuch.0: No such file or directory" || fail "missing directory, srun said: $out"
cluster_run mkdir -p "$S/ck/partial.0/gen.1.tmp"
out=$(cluster_run timeout 60 srun -N1 -n1 --restart-dir="$S/ck/partial.0" "$P" "$S/wrong" 5 0 2>&1) &&
    fail "a restart from a directory without a complete generation started: $out"
echo "$out" | grep -q "holds no complete checkpoint generation" || fail "no complete generation, srun said: $out"
[ ! -e "$S/wrong" ] || fail "a task of a refused step ran"

# the restart, in a new job: arguments that would write to $S/fresh if it started afresh
# (with periodic checkpoints of the restarted step: its tasks are cr_restart, the
# writer checkpoints the processes they restored)
cluster_run timeout 120 srun -N3 -n6 --restart-dir="$img" --checkpoint=0:02 --checkpoint-dir="$S/ck2" \
    "$P" "$S/fresh" 3 0 > "$D/second.out" 2> "$D/second.err" &
srun_pid=$!
# each task is cr_restart: put in front of srun's command by spank_prepend_task_argv
# where Slurm has it (23.11+), the command then not run; exec'd by the plugin on 22.05
tasks=
for i in $(seq 1 600); do
    tasks=$(pgrep -u "$CLUSTER_USER" -x cr_restart | while read -r p; do tr '\0' ' ' < "/proc/$p/cmdline"; echo; done)
    [ "$(echo "$tasks" | grep -c .)" -ge 6 ] && break
    kill -0 $srun_pid 2>/dev/null || break
    sleep 0.1
done
[ "$(echo "$tasks" | grep -c .)" -ge 6 ] || fail "the restarted step's six tasks were not seen as cr_restart: $tasks"
if grep -q '^#define HAVE_DECL_SPANK_PREPEND_TASK_ARGV 1' "$top_builddir/config.h"; then
    [ "$(echo "$tasks" | grep -c -- " --in-place-of -- $P $S/fresh 3 0 \$")" -ge 6 ] ||
        fail "the tasks are not cr_restart in front of srun's command (spank_prepend_task_argv): $tasks"
else
    ! echo "$tasks" | grep -q -- "--in-place-of" || fail "Slurm has no spank_prepend_task_argv, yet: $tasks"
fi
wait $srun_pid || fail "the restarted step failed: $(cat "$D/second.err")"
img2=$(ls -d "$S"/ck2/*.0 | head -n 1)
grep -qx "tasks 6" "$img2/latest/manifest" || fail "no complete generation of the restarted step: $(ls -la "$img2"; cat "$img2/errors.log")"
[ ! -e "$S/fresh" ] || fail "the step started afresh instead of restarting"
same_as_ranks_reference "$S/run" "$D/second.out"
python3 - "$img/events.jsonl" "${latest#gen.}" <<'PYEOF' || fail "restart events are not right: $(grep RSTRT "$img/events.jsonl")"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if "RSTRT" in l]
gen = int(sys.argv[2])
ok = [e for e in ev if e["event"] == "RSTRT_END" and e["generation"] == gen]
assert sorted(e["rank"] for e in ok) == list(range(6)), "not one RSTRT_END per rank"
begins = {e["handle"] for e in ev if e["event"] == "RSTRT_BEGIN"}
assert all(e["handle"] in begins for e in ev if e["event"] != "RSTRT_BEGIN"), "an END/ERROR without its BEGIN"
assert any(e["event"] == "RSTRT_ERROR" and e["errno"] == 22 for e in ev), "no RSTRT_ERROR for the refused step"
PYEOF
pass
