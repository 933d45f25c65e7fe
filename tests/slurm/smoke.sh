#!/bin/bash
# The test cluster itself works: three slurmd answer one srun, a batch job runs
# to completion, both as the unprivileged job user, and stopping the cluster
# leaves none of its daemons behind. The other Slurm tests build on this.
set -u
here=${top_srcdir:+$top_srcdir/tests/slurm}
. "${here:-$(cd "$(dirname "$0")" && pwd)}/cluster.sh"

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }

[ "$(id -u)" = 0 ] || skip "needs root to start slurmctld, slurmd and munged"
command -v slurmctld >/dev/null && command -v munged >/dev/null ||
    skip "Slurm or munge is not installed (scripts/install-deps-slurm)"

# A directory every user can traverse, so that the job user reaches its files.
D=$(mktemp -d /tmp/slurm-cr-cluster.XXXXXX)
TEST_OK=0
cleanup() {
    cluster_stop "$D" 2>/dev/null
    if [ "$TEST_OK" = 1 ]; then
        rm -rf "$D"
    else
        echo "logs and files kept in $D" >&2
        _cl_tails "$D"
    fi
}
trap cleanup EXIT

cluster_start "$D" || fail "the cluster did not start"
cluster_env "$D"

# One step over the three nodes, two tasks each.
out=$(cluster_run timeout 60 srun -N3 -n6 /bin/sh -c 'echo $SLURMD_NODENAME $SLURM_PROCID $(id -un)' 2>&1) ||
    fail "srun -N3 -n6 failed: $out"
echo "$out" | sort -k2n
[ "$(echo "$out" | awk '{print $1}' | sort -u | tr '\n' ' ')" = "n1 n2 n3 " ] ||
    fail "the tasks did not run on n1, n2 and n3"
[ "$(echo "$out" | awk '{print $2}' | sort -n | tr '\n' ' ')" = "0 1 2 3 4 5 " ] ||
    fail "not the six tasks 0-5"
[ "$(echo "$out" | awk '{print $3}' | sort -u)" = "$CLUSTER_USER" ] ||
    fail "the tasks did not run as $CLUSTER_USER"

# A batch job whose script starts a step on every node of its allocation.
id=$(cluster_run sbatch --parsable -N3 -o batch.out \
    --wrap 'echo batch on $SLURMD_NODENAME; srun -l /bin/sh -c "echo \$SLURMD_NODENAME"' 2>&1) ||
    fail "sbatch failed: $id"
state=$(cluster_wait_job "$id" 60) || fail "batch job $id ended $state"
cat "$CLUSTER_SHARED/batch.out"
grep -q '^batch on n1$' "$CLUSTER_SHARED/batch.out" || fail "the batch script did not run on n1"
[ "$(grep -c '^[0-2]: n[1-3]$' "$CLUSTER_SHARED/batch.out")" = 3 ] ||
    fail "the batch job's step did not answer from three nodes"

# Stopping ends exactly what was started: the pid files name the daemons.
pids=$(cat "$D"/run/*.pid)
cluster_stop "$D" || fail "cluster stop failed"
for p in $pids; do
    # A zombie is gone as far as we are concerned: reaping it is its parent's job.
    [ -d /proc/$p ] && [ "$(awk '{print $3}' /proc/$p/stat 2>/dev/null)" != Z ] &&
        fail "process $p ($(tr '\0' ' ' < /proc/$p/cmdline)) still runs after stop"
done
[ -z "$(_cl_stepds "$D")" ] || fail "slurmstepd processes left after stop"
[ -s "$D/log/slurmctld.log" ] || fail "stop did not keep the logs"
TEST_OK=1
echo "PASS: ${0##*/}"
