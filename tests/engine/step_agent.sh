# Sourced by the tests that drive the node agent by hand (step_conns.sh, step_shm.sh),
# after tests/engine/lib.sh.
AGENT=$top_builddir/slurm_checkpoint/cr_agent
# agent JOB IMG [ARGS...]: a coordinated checkpoint of step JOB.0 into IMG/gen.1, its
# "write" given on its stdin (a FIFO) once it said "frozen"
agent() {
    local job=$1 img=$2 i
    shift 2
    rm -f in && mkfifo in
    SLURMD_NODENAME=local SLURM_NODEID=0 SLURM_NNODES=1 "$AGENT" checkpoint $job 0 --image-dir "$img" --gen 1 \
        --coordinated 20 --cr-checkpoint "$CR_CHECKPOINT" "$@" < in > agent.out 2> agent.err &
    local apid=$!
    exec 8> in
    for i in $(seq 1 600); do grep -q "^\(frozen\|abort\) local" agent.out && break; sleep 0.05; done
    echo write >&8
    exec 8>&- # (the requester's last word: the agent reads its stdin to the end)
    within 60 tail --pid=$apid -f /dev/null
    wait $apid
}
# (each test drives steps of its own job ids, which the agent finds by the tasks'
# SLURM_JOB_ID among the user's processes: step_shm.sh 71-76, step_kmod.sh 80-85,
# step_conns.sh 91-96; make check runs them at once)
