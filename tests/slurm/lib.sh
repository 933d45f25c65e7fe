# Shared by the Slurm tests that need the plugin: skip without root or Slurm, start a
# cluster with spank_cr.so in its plugstack.conf (ARGS after the plugin path), stop it
# at the end and keep its logs on failure.  Sets D (the cluster dir), S (the job
# user's shared dir), B (the build dir); the test ends with `pass`.
set -u
. "$top_srcdir/tests/slurm/cluster.sh"
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
pass() { TEST_OK=1; echo "PASS: ${0##*/}"; exit 0; }

# slurm_test_cluster NAME [PLUGSTACK ARGS...]
slurm_test_cluster() {
    local name=$1; shift
    [ "$(id -u)" = 0 ] || skip "needs root to start slurmctld, slurmd and munged"
    command -v slurmctld >/dev/null || skip "Slurm is not installed (scripts/install-deps-slurm)"
    B=$top_builddir
    [ -e "$B/spank/.libs/spank_cr.so" ] || fail "the plugin was not built (configure did not find slurm/spank.h)"
    D=$(mktemp -d "/tmp/slurm-cr-$name.XXXXXX")
    TEST_OK=0
    trap slurm_test_cleanup EXIT
    chmod 755 "$D"
    # copies of the runtime and the plugin: images map the runtime, and a rebuild during
    # the test must neither make them refuse to restart ("the mapped file ... changed
    # since the checkpoint") nor let srun load a half-written plugin
    mkdir -p "$D/lib" && cp "$B/libcr/.libs/libcr_run.so" "$B/spank/.libs/spank_cr.so" "$D/lib/" &&
        chmod 755 "$D/lib" || fail "cannot copy the runtime and the plugin into $D/lib"
    echo "required $D/lib/spank_cr.so runtime=$D/lib/libcr_run.so $*" > "$D/plugstack.conf"
    cluster_start "$D" || fail "the cluster did not start"
    cluster_env "$D"
    S=$CLUSTER_SHARED
}

slurm_test_cleanup() {
    cluster_stop "$D" 2>/dev/null
    if [ "$TEST_OK" = 1 ]; then rm -rf "$D"; else echo "logs and files kept in $D" >&2; _cl_tails "$D"; fi
}

# serial_batch_job STEPS REF: $S/job.sh, a batch script that runs one rankcount of
# STEPS steps in the directory given to it (each start of the script leaves a line in
# DIR/runs), and what an uninterrupted run gives: REF/rank.0, and REF.out, the script's
# output
serial_batch_job() {
    local steps=$1 ref=$2 P=$top_builddir/tests/programs/rankcount
    mkdir -p "$ref"
    SLURM_PROCID=0 timeout 60 "$P" "$ref" "$steps" 0 > "$ref.done" || fail "the reference run failed"
    printf 'start\n%s\nexit 0\n' "$(cat "$ref.done")" > "$ref.out"
    cat > "$S/job.sh" <<JOB
#!/bin/bash
echo run >> "\$1/runs"
echo "start"
"$P" "\$1" $steps 100
echo "exit \$?"
JOB
    chmod 755 "$S/job.sh" && chown "$CLUSTER_USER" "$S/job.sh" || fail "cannot write $S/job.sh"
}

# ranks_reference STEPS: what six ranks of rankcount (STEPS steps) give uninterrupted:
# $D/ref/rank.R, and their final lines in $D/ref.out
ranks_reference() {
    local r
    mkdir -p "$D/ref"
    for r in 0 1 2 3 4 5; do
        SLURM_PROCID=$r timeout 60 "$top_builddir/tests/programs/rankcount" "$D/ref" "$1" 0 >> "$D/ref.out" ||
            fail "reference rank $r failed"
    done
}

# same_as_reference REF DIR FINAL N: the files rank.0 .. rank.N-1 in DIR are those in REF,
# and the final lines in FINAL are those in REF.out (any order), as an uninterrupted run
same_as_reference() {
    local r
    sort "$3" | cmp - <(sort "$1.out") || fail "the ranks' final lines differ from an uninterrupted run: $(cat "$3")"
    for r in $(seq 0 $(($4 - 1))); do
        cmp "$2/rank.$r" "$1/rank.$r" || fail "rank $r's output in $2 differs from an uninterrupted run"
    done
}

# same_as_ranks_reference DIR FINAL: the six ranks of ranks_reference
same_as_ranks_reference() { same_as_reference "$D/ref" "$1" "$2" 6; }

# wait_lines FILE N: until (120 s) FILE has N lines
wait_lines() {
    local i
    for i in $(seq 1 600); do [ "$(cat "$1" 2>/dev/null | wc -l)" -ge "$2" ] && return 0; sleep 0.2; done
    fail "$1 did not reach $2 lines"
}

# running_job: until (60 s) the job user has a running job; the newest in job
running_job() {
    local i
    job=
    for i in $(seq 1 300); do
        job=$(timeout 10 squeue -h -u "$CLUSTER_USER" -t R -o %i | sort -n | tail -n 1)
        [ -n "$job" ] && return 0
        sleep 0.2
    done
    fail "no running job"
}

# first_generation CKDIR ERRFILE: until (60 s) the job user's job has a complete
# generation of its step 0 under CKDIR; sets job and img (CKDIR/<job>.0), or fails
# showing ERRFILE (srun's errors) and the writers' errors.log
first_generation() {
    local i
    job=
    for i in $(seq 1 300); do
        job=$(timeout 10 squeue -h -u "$CLUSTER_USER" -o %i | head -n 1)
        [ -n "$job" ] && [ -f "$1/$job.0/latest/manifest" ] && break
        sleep 0.2
    done
    [ -n "$job" ] || fail "the job did not start: $(cat "$2")"
    img=$1/$job.0
    [ -f "$img/latest/manifest" ] ||
        fail "no complete generation in $img within 60 s: $(cat "$2"; ls -la "$img"; cat "$img/errors.log" 2>&1)"
}
