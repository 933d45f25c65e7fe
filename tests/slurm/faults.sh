#!/bin/bash
# Faults in the middle of a coordinated step checkpoint and of a restart at launch
# (issue 15).  On a step whose rank 5 can never stop (the agents of n1 and n2 hold
# their tasks frozen while n3's tries for MaxWait): n1's node agent killed, then the
# helper step's slurmstepd on n2 killed.  On a healthy step with one good generation:
# n3's agent killed while it writes rank 5's 400 MiB, then killed after the word to
# write but before it listed its tasks' connections, and n2's slurmd dead when the
# create starts.  Each time the create ends within 60 s of the fault with a message
# that names the node, no task stays frozen, no agent, cr_checkpoint, temporary
# generation or coordinator directory is left, and the good generation stays the
# latest; the step then ends as an uninterrupted run.  Last, a restart at launch
# whose rank 5 is killed fails and says so, leaves no process, and the generation
# restarts again into an uninterrupted run's output.
. "$top_srcdir/tests/slurm/lib.sh"
B=$top_builddir
slurm_test_cluster faults cr_restart=$B/util/cr_restart agent=$B/slurm_checkpoint/cr_agent
P=$B/tests/programs/rankcount
SC=(TMPDIR=$S/tmp SCONTROL_CR_AGENT=$B/slurm_checkpoint/cr_agent SCONTROL_CR_CHECKPOINT=$B/util/cr_checkpoint
    timeout 300 "$B/scontrol-helpers/scontrol-cr")
STEPS=600

lines() { cat "$1" 2>/dev/null | wc -l; }
wait_lines() {
    for i in $(seq 1 300); do [ "$(lines "$1")" -ge "$2" ] && return 0; sleep 0.2; done
    fail "$1 did not reach $2 lines"
}
# agent NODE: the pid of the node agent (cr_agent) running for NODE, if any
agent() {
    local p
    for p in $(pgrep -u "$CLUSTER_USER" -x cr_agent); do
        tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | grep -qx "SLURMD_NODENAME=$1" && { echo "$p"; return 0; }
    done
    return 1
}
# stepd_of PID: the slurmstepd that PID runs under
stepd_of() {
    local p=$1 exe
    while [ "$p" -gt 1 ]; do
        p=$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null) || return 1
        exe=$(readlink "/proc/$p/exe" 2>/dev/null)
        case ${exe##*/} in slurmstepd*) echo "$p"; return 0 ;; esac
    done
    return 1
}
# frozen_seen NODE: the coordinator (scontrol-cr) has heard NODE say its tasks are frozen
frozen_seen() { grep -qsx "frozen $1" "$S"/tmp/scontrol-cr.*/out; }
# goes_on FILE: FILE grows within 10 s
goes_on() {
    local n i
    n=$(lines "$1")
    for i in $(seq 1 100); do [ "$(lines "$1")" -gt "$n" ] && return 0; sleep 0.1; done
    return 1
}
# no_leftovers: no agent, no cr_checkpoint, no temporary generation or coordinator dir
no_leftovers() {
    local i
    for i in $(seq 1 100); do
        pgrep -u "$CLUSTER_USER" -x cr_agent > /dev/null || pgrep -u "$CLUSTER_USER" -x cr_checkpoint > /dev/null || break
        sleep 0.1
    done
    pgrep -a -u "$CLUSTER_USER" -x cr_agent && fail "$1: a node agent is left"
    pgrep -a -u "$CLUSTER_USER" -x cr_checkpoint && fail "$1: a cr_checkpoint is left"
    ls -d "$img"/gen.*.tmp 2>/dev/null && fail "$1: a temporary generation is left"
    ls -d "$S"/tmp/scontrol-cr.* 2>/dev/null && fail "$1: the coordinator's directory is left"
    if [ -n "$good" ]; then
        [ "$(readlink "$img/latest")" = "$good" ] || fail "$1: latest moved from $good to $(readlink "$img/latest")"
        ls -d "$img"/gen.* | grep -vx "$img/$good" && fail "$1: a generation other than $good is kept"
    else
        ls -d "$img"/gen.* 2>/dev/null && fail "$1: files of the failed create were kept"
    fi
    return 0
}
# create_fails NAME WHO...: the running create (pid $cpid) fails within 60 s of the
# fault, naming WHO
create_fails() {
    local name=$1 start=$SECONDS out; shift
    timeout 120 tail --pid=$cpid -f /dev/null
    wait $cpid && fail "$name: the create succeeded"
    out=$(cat "$D/$name.err")
    echo "$name: $out (after $((SECONDS - start)) s)" >&2
    [ $((SECONDS - start)) -le 60 ] || fail "$name: the create took $((SECONDS - start)) s to end after the fault"
    echo "$out" | grep -q "$*" || fail "$name: the failure does not say '$*': $out"
}

ranks_reference $STEPS
cluster_run mkdir -p "$S/run" "$S/tmp" "$S/stuck"

# A step whose rank 5 (on n3) can never stop: n3's agent tries for MaxWait while the
# agents of n1 and n2 hold their tasks frozen, waiting for the word to write
printf '0-4 %s %s 1500 100\n5 %s 1500\n' "$P" "$S/stuck" "$B/tests/programs/blocker" > "$S/stuck.conf"
cluster_run timeout 300 srun -N3 -n6 --checkpoint-dir="$S/ckA" --multi-prog "$S/stuck.conf" \
    > "$D/stuck.out" 2> "$D/stuck.err" &
stuck_pid=$!
wait_lines "$S/stuck/rank.0" 10
jobA=$(timeout 10 squeue -h -u "$CLUSTER_USER" -t R -o %i | sort -n | tail -n 1)
img=$S/ckA/$jobA.0 good=

# 1. n1's agent killed while n1's tasks are frozen
cluster_run "${SC[@]}" checkpoint create "$jobA.0" MaxWait=15 2> "$D/agent_frozen.err" &
cpid=$!
for i in $(seq 1 300); do frozen_seen n1 && break; sleep 0.1; done
frozen_seen n1 || fail "agent_frozen: n1 never said frozen"
a1=$(agent n1) || fail "agent_frozen: no agent on n1"
kill -KILL "$a1"
goes_on "$S/stuck/rank.0" || fail "agent_frozen: rank 0 stays frozen after its agent was killed"
create_fails agent_frozen "node n1: its node agent .*(errno"
for r in 0 1 2 3 4; do goes_on "$S/stuck/rank.$r" || fail "agent_frozen: rank $r does not go on"; done
no_leftovers agent_frozen

# 2. the helper step's slurmstepd on n2 killed while n2's tasks are frozen
cluster_run "${SC[@]}" checkpoint create "$jobA.0" MaxWait=15 2> "$D/stepd.err" &
cpid=$!
for i in $(seq 1 300); do frozen_seen n2 && break; sleep 0.1; done
frozen_seen n2 || fail "stepd: n2 never said frozen"
a2=$(agent n2) && s2=$(stepd_of "$a2") || fail "stepd: no slurmstepd above n2's agent"
kill -KILL "$s2"
goes_on "$S/stuck/rank.2" || fail "stepd: rank 2 stays frozen after its helper step's slurmstepd was killed"
create_fails stepd "node n2: "
for r in 0 1 2 3 4; do goes_on "$S/stuck/rank.$r" || fail "stepd: rank $r does not go on"; done
no_leftovers stepd
timeout 20 scancel "$jobA"
timeout 60 tail --pid=$stuck_pid -f /dev/null || fail "the stuck step did not end after scancel"

# A healthy step whose rank 5 (on n3) holds 400 MiB: one good generation first
cluster_run RANKCOUNT_BIG=5:400 timeout 900 srun -N3 -n6 --checkpoint-dir="$S/ck" "$P" "$S/run" $STEPS 100 \
    > "$D/srun.out" 2> "$D/srun.err" &
srun_pid=$!
wait_lines "$S/run/rank.5" 10
job=$(timeout 10 squeue -h -u "$CLUSTER_USER" -t R -o %i | sort -n | tail -n 1)
img=$S/ck/$job.0
cluster_run "${SC[@]}" checkpoint create "$job.0" 2> "$D/create1.err" || fail "the first create failed: $(cat "$D/create1.err")"
good=$(readlink "$img/latest") || fail "the first create left no latest generation"

# 3. n3's agent killed while it writes rank 5's 400 MiB
cluster_run "${SC[@]}" checkpoint create "$job.0" MaxWait=30 2> "$D/agent_write.err" &
cpid=$!
for i in $(seq 1 600); do
    [ -n "$(find "$img" -path '*gen.*.tmp*' -name 'task.5*' -print -quit 2>/dev/null)" ] && break
    sleep 0.05
done
kill -KILL "$(agent n3)" || fail "agent_write: no agent on n3 to kill"
goes_on "$S/run/rank.5" || fail "agent_write: rank 5 stays frozen after its agent was killed"
create_fails agent_write "node n3: its node agent .*(errno"
for r in 0 1 2 3 4 5; do goes_on "$S/run/rank.$r" || fail "agent_write: rank $r does not go on"; done
no_leftovers agent_write

# 3b. n3's agent dies after every node said frozen, before it listed its tasks'
# connections (CR_AGENT_STOP_AT stops it there): the others, waiting for that
# list, are called off at once (they waited for the whole --coordinated time, 90 s)
cluster_run CR_AGENT_STOP_AT=conns:n3 "${SC[@]}" checkpoint create "$job.0" MaxWait=30 \
    2> "$D/agent_listing.err" &
cpid=$!
a3=
for i in $(seq 1 600); do
    a3=$(agent n3) && [ "$(awk '{print $3}' "/proc/$a3/stat" 2>/dev/null)" = T ] && break
    a3=
    sleep 0.05
done
[ -n "$a3" ] || fail "agent_listing: n3's agent never stopped before its list of connections"
for i in $(seq 1 600); do
    [ -n "$(find "$img" -path '*gen.*.tmp*' -name 'conns.0' -print -quit 2>/dev/null)" ] &&
        [ -n "$(find "$img" -path '*gen.*.tmp*' -name 'conns.1' -print -quit 2>/dev/null)" ] && break
    sleep 0.05
done
kill -KILL "$a3"
create_fails agent_listing "node n3: its node agent .*(errno"
for r in 0 1 2 3 4 5; do goes_on "$S/run/rank.$r" || fail "agent_listing: rank $r does not go on"; done
no_leftovers agent_listing

# 4. n2's slurmd is dead when the create starts: the helper step cannot start there
sd=$(_cl_ours "$D" slurmd-n2) || fail "no slurmd on n2"
kill -KILL "$sd"
cluster_run "${SC[@]}" checkpoint create "$job.0" MaxWait=5 2> "$D/slurmd.err" &
cpid=$!
create_fails slurmd "node n2: the node agent could not be started there"
grep -q "node n[13]" "$D/slurmd.err" && fail "slurmd: a healthy node was blamed: $(cat "$D/slurmd.err")"
_cl_spawn "$D" slurmd-n2 slurmd -D -N n2 -f "$D/slurm.conf" || fail "cannot start n2's slurmd again"
for r in 0 1 2 3 4 5; do goes_on "$S/run/rank.$r" || fail "slurmd: rank $r does not go on"; done
no_leftovers slurmd

# the step ends as an uninterrupted run; the good generation restarts into the same
timeout 600 tail --pid=$srun_pid -f /dev/null
wait $srun_pid || fail "the step failed after the faults: $(cat "$D/srun.err")"
same_as_ranks_reference "$S/run" "$D/srun.out"

# 5. a restarting task killed: the step fails and says so, nothing is left behind,
# and the generation restarts again
cluster_run timeout 300 srun -N3 -n6 --restart-dir="$img" "$P" "$S/fresh" 3 0 > "$D/restart1.out" 2> "$D/restart1.err" &
rpid=$!
for i in $(seq 1 600); do
    v=$(pgrep -u "$CLUSTER_USER" -f "task\.5\.ckpt" | head -n 1) && [ -n "$v" ] && break
    sleep 0.02
done
[ -n "${v:-}" ] || fail "rank 5's restart was not seen"
kill -KILL "$v"
timeout 120 tail --pid=$rpid -f /dev/null
wait $rpid && fail "the restart succeeded although rank 5 was killed"
grep -q "task 5" "$D/restart1.err" || fail "srun does not say that task 5 failed: $(cat "$D/restart1.err")"
for i in $(seq 1 100); do pgrep -u "$CLUSTER_USER" -x rankcount > /dev/null || pgrep -u "$CLUSTER_USER" -x cr_restart > /dev/null || break; sleep 0.1; done
pgrep -a -u "$CLUSTER_USER" -x rankcount && fail "processes of the killed restart are left"
pgrep -a -u "$CLUSTER_USER" -x cr_restart && fail "a cr_restart of the killed restart is left"
cluster_run timeout 300 srun -N3 -n6 --restart-dir="$img" "$P" "$S/fresh" 3 0 > "$D/restart.out" 2> "$D/restart.err" ||
    fail "the restart from $good failed: $(cat "$D/restart.err")"
[ ! -e "$S/fresh" ] || fail "the step started afresh instead of restarting"
same_as_ranks_reference "$S/run" "$D/restart.out"
pass
