#!/bin/bash
# backend=kmod preload=no in plugstack.conf, on the 3-node cluster: the tasks start
# without the runtime (no LD_PRELOAD of it; CR_BACKEND=kmod in their environment).
# This machine cannot load the crctl module (the module's side is tests/kmod/engine.sh,
# which runs the node agent's path, tests/engine/step_kmod.sh, with it): each node's
# log says so when the step starts, and scontrol
# checkpoint create is refused, naming the missing module, its fix and the node, nothing
# is kept and every rank goes on.  With CR_BACKEND=auto (the requester's, which its
# helper step carries and the plugin leaves alone: the job's choice wins) the same step
# is checkpointed from outside through ptrace: vacate writes a complete generation of
# ptrace images of all six ranks, and srun --restart-dir brings them back to the end
# of an uninterrupted run.  Periodic checkpoints (--checkpoint, the plugin's writer):
# without the module, errors.log names it and no generation completes; with the job's
# CR_BACKEND=auto, generations of ptrace images complete.
. "$top_srcdir/tests/slurm/lib.sh"
B=$top_builddir
slurm_test_cluster kmod_backend backend=kmod preload=no cr_restart=$B/util/cr_restart \
    agent=$B/slurm_checkpoint/cr_agent
[ -e /dev/crctl ] && skip "the crctl module is loaded here: this test is for a node without it"
P=$B/tests/programs/rankcount
SC=(SCONTROL_CR_AGENT=$B/slurm_checkpoint/cr_agent SCONTROL_CR_CHECKPOINT=$B/util/cr_checkpoint
    timeout 300 "$B/scontrol-helpers/scontrol-cr")
wait_lines() {
    for i in $(seq 1 300); do [ "$(cat "$1" 2>/dev/null | wc -l)" -ge "$2" ] && return 0; sleep 0.2; done
    fail "$1 did not reach $2 lines"
}

ranks_reference 120
cluster_run mkdir -p "$S/run"
cluster_run timeout 300 srun -N3 -n6 --checkpoint-dir="$S/ck" "$P" "$S/run" 120 100 > /dev/null 2> "$D/run.err" &
srun_pid=$!
wait_lines "$S/run/rank.5" 10
job=$(timeout 10 squeue -h -u "$CLUSTER_USER" -t R -o %i | sort -n | tail -n 1)
for p in $(pgrep -f "^$P $S/run "); do
    env=$(tr '\0' '\n' < /proc/$p/environ)
    echo "$env" | grep -q '^LD_PRELOAD=.*libcr_run' && fail "a task was started with the runtime (preload=no)"
    echo "$env" | grep -qx 'CR_BACKEND=kmod' || fail "a task's environment lacks CR_BACKEND=kmod"
done
# said when the step starts too, on every node (slurmstepd's log, in the slurmd log)
for n in n1 n2 n3; do
    grep -q "spank_cr: backend=kmod in plugstack.conf, but the crctl module is not loaded on this node" "$D/log/slurmd-$n.log" ||
        fail "the step's start on $n did not say that the module is missing: $(tail -5 "$D/log/slurmd-$n.log")"
done

# the site's kmod without the module: said, with the way out; nothing kept, nothing harmed
out=$(cluster_run "${SC[@]}" checkpoint create "$job.0" 2>&1) && fail "create succeeded without the module: $out"
echo "$out" >&2
echo "$out" | grep -q "node n[123] rank [0-5]: backend=kmod, but the crctl module is not loaded on n[123] (/dev/crctl: No such file or directory): load it there (modprobe crctl" ||
    fail "the refusal does not name the module, the node and the fix: $out"
ls "$S/ck/$job.0"/gen.* > /dev/null 2>&1 && fail "files of the refused create were kept: $(ls -R "$S/ck/$job.0")"
for r in 0 1 2 3 4 5; do
    n=$(wc -l < "$S/run/rank.$r"); sleep 0.5
    [ "$(wc -l < "$S/run/rank.$r")" -gt "$n" ] || fail "rank $r did not go on after the refused create"
done

# auto: through ptrace, without the module; vacate, then restart at launch
cluster_run CR_BACKEND=auto "${SC[@]}" checkpoint vacate "$job.0" 2> "$D/vacate.err" ||
    fail "vacate with CR_BACKEND=auto failed: $(cat "$D/vacate.err")"
timeout 60 tail --pid=$srun_pid -f /dev/null || fail "srun did not end after the vacate"
img=$S/ck/$job.0
grep -qx "tasks 6" "$img/latest/manifest" && grep -qx "nodes 3" "$img/latest/manifest" ||
    fail "the generation is not the whole step: $(cat "$img/latest/manifest")"
for r in 0 1 2 3 4 5; do
    cluster_run "$B/util/cr_info" "$img/latest/task.$r.ckpt" | grep -q "(ptrace)" ||
        fail "rank $r's image was not written through ptrace"
done
cluster_run timeout 200 srun -N3 -n6 --restart-dir="$img" "$P" "$S/fresh" 3 0 > "$D/restart.out" 2> "$D/restart.err" ||
    fail "the restart failed: $(cat "$D/restart.err")"
same_as_ranks_reference "$S/run" "$D/restart.out"

# periodic checkpoints (the plugin's writer): the site's kmod without the module is
# said in errors.log, naming the module and its fix; the job's CR_BACKEND=auto
# completes generations of ptrace images
cluster_run mkdir -p "$S/per1" "$S/per2"
cluster_run timeout 300 srun -N3 -n6 --checkpoint=0:02 --checkpoint-dir="$S/ckp1" "$P" "$S/per1" 600 100 \
    > /dev/null 2> "$D/per1.err" &
srun_pid=$!
wait_lines "$S/per1/rank.5" 5
job=$(timeout 10 squeue -h -u "$CLUSTER_USER" -t R -o %i | sort -n | tail -n 1)
for i in $(seq 1 300); do grep -q "crctl module is not loaded" "$S/ckp1/$job.0/errors.log" 2>/dev/null && break; sleep 0.2; done
grep -q "checkpoint generation [0-9]*: task [0-5]: backend=kmod, but the crctl module is not loaded on n[123] (/dev/crctl: No such file or directory): load it there (modprobe crctl" "$S/ckp1/$job.0/errors.log" ||
    fail "errors.log does not name the missing module: $(cat "$S/ckp1/$job.0/errors.log" 2>&1)"
[ ! -e "$S/ckp1/$job.0/latest" ] || fail "a periodic generation completed without the module"
timeout 20 scancel "$job"
timeout 60 tail --pid=$srun_pid -f /dev/null || fail "srun did not end after scancel"
cluster_run CR_BACKEND=auto timeout 300 srun -N3 -n6 --checkpoint=0:02 --checkpoint-dir="$S/ckp2" "$P" "$S/per2" 600 100 \
    > /dev/null 2> "$D/per2.err" &
srun_pid=$!
first_generation "$S/ckp2" "$D/per2.err"
grep -qx "tasks 6" "$img/latest/manifest" || fail "the periodic generation is not the whole step: $(cat "$img/latest/manifest")"
for r in 0 1 2 3 4 5; do
    cluster_run "$B/util/cr_info" "$img/latest/task.$r.ckpt" | grep -q "(ptrace)" ||
        fail "rank $r's periodic image was not written through ptrace"
done
timeout 20 scancel "$job"
timeout 60 tail --pid=$srun_pid -f /dev/null || fail "srun did not end after scancel"
pass
