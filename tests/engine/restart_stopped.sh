# SIGSTOP at every phase of a restart (issue 15): cr_restart while it reads the
# image, the restoring process (cr_restart's child: the restorer), a tree's init (pid 1
# of its namespace) and a process of the tree while they are created, and the restored
# process as its runtime resumes it (cr_restart --stop).  Each stays stopped for
# longer than any of the restart's own waits would allow a process that is merely
# slow (3 s; the tree's creation barrier: longer), nothing ends or gives up
# meanwhile, and once continued each restart gives the output of an uninterrupted run.
. "$top_srcdir/tests/engine/lib.sh"
STOP_S=${RESTART_STOP_SECONDS:-3}

# state PID: its state letter
state() { awk '{print $3}' "/proc/$1/stat" 2>/dev/null; }
# until_stopped PID: until PID is stopped (T)
until_stopped() {
    local i=0
    until [ "$(state "$1")" = T ]; do
        i=$((i + 1)); [ $i -le 600 ] || fail "$2: $1 did not stop"; sleep 0.01
    done
}
# held NAME PID...: each stays stopped (and alive) for STOP_S seconds, then is continued
held() {
    local name=$1 i p; shift
    for i in $(seq 1 $((STOP_S * 20))); do
        for p in "$@"; do [ "$(state "$p")" = T ] || fail "$name: $p is no longer stopped ($(state "$p"))"; done
        kill -0 "$restarter" 2>/dev/null || fail "$name: cr_restart ended while $* was stopped"
        sleep 0.05
    done
    kill -CONT "$@"
}
# first_child PID: PID's first child, once it has one
first_child() {
    local i=0 c=
    until c=$(awk '{print $1}' "/proc/$1/task/$1/children" 2>/dev/null) && [ -n "$c" ]; do
        i=$((i + 1)); [ $i -le 6000 ] || fail "$1 started no child"
        kill -0 "$1" 2>/dev/null || fail "$1 ended without a child"
        sleep 0.001
    done
    echo "$c"
}

# one process with 256 MiB: reading and restoring it takes a while
prog="$PROGS/heapsum 256 12 100"
within 120 $prog > "$T/ref" || fail "reference run failed"
bg "$CR_RUN" $prog > "$T/out" 2> "$T/run.err"
pid=$!
wait_runtime $pid
wait_lines "$T/out" 2 60
within 120 "$CR_CHECKPOINT" --kill -f "$T/one.ctx" $pid || fail "the checkpoint failed"
wait_gone $pid
# (the restored process writes on in $T/out, reopened by its path)
cp "$T/out" "$T/saved"

# cr_restart stopped as it starts (reading, checking the image)
cp "$T/saved" "$T/out"
bash -c 'kill -STOP $$; exec "$@"' restart "$CR_RESTART" "$T/one.ctx" 2> "$T/r1.err" &
restarter=$!
track $restarter
until_stopped $restarter read
kill -CONT $restarter
for i in $(seq 1 200); do [ "$(state $restarter)" = T ] && break; kill -STOP $restarter; sleep 0.005; done
until_stopped $restarter read
held read $restarter
within 120 tail --pid=$restarter -f /dev/null
wait $restarter || fail "read: cr_restart exited $? after it was stopped: $(cat "$T/r1.err")"
same "$T/ref" "$T/out"

# the restoring process stopped as soon as it exists
cp "$T/saved" "$T/out"
"$CR_RESTART" "$T/one.ctx" 2> "$T/r2.err" &
restarter=$!
track $restarter
child=$(first_child $restarter)
kill -STOP "$child"
until_stopped "$child" restorer
held restorer "$child"
within 120 tail --pid=$restarter -f /dev/null
wait $restarter || fail "restorer: cr_restart exited $? after its child was stopped: $(cat "$T/r2.err")"
same "$T/ref" "$T/out"

# the restored process stopped by its runtime before it runs (--stop), then continued
cp "$T/saved" "$T/out"
"$CR_RESTART" --stop "$T/one.ctx" 2> "$T/r3.err" &
restarter=$!
track $restarter
child=$(first_child $restarter)
until_stopped "$child" resume
held resume "$child"
within 120 tail --pid=$restarter -f /dev/null
wait $restarter || fail "resume: cr_restart exited $? after --stop: $(cat "$T/r3.err")"
same "$T/ref" "$T/out"

# a tree: a shell whose loop starts a pipeline per line
N=200
for i in $(seq 1 $N); do echo $i | sha1sum; done > "$T/tree.ref"
cat > "$T/loop.sh" <<EOF
for i in \$(seq 1 $N); do echo \$i | sha1sum >> '$T/tree.out'; sleep 0.02; done
EOF
bg "$CR_RUN" bash "$T/loop.sh" 2> "$T/tree.err"
pid=$!
wait_runtime $pid
wait_lines "$T/tree.out" 20 60
within 60 "$CR_CHECKPOINT" --tree --kill -f "$T/tree.ctx" $pid || fail "the tree's checkpoint failed"
wait_gone $pid
cp "$T/tree.out" "$T/tree.saved"
# its init stopped as soon as it exists; then a process of the tree stopped while
# the others wait for it (in its pid namespace, --no-restore-pid: the init between
# cr_restart and the tree)
for phase in init member; do
    cp "$T/tree.saved" "$T/tree.out"
    "$CR_RESTART" --no-restore-pid "$T/tree.ctx" 2> "$T/tree.$phase.err" &
    restarter=$!
    track $restarter
    init=$(first_child $restarter)
    if [ $phase = init ]; then
        kill -STOP "$init"
        until_stopped "$init" init
        held init "$init"
    else
        member=$(first_child "$init")
        kill -STOP "$member"
        until_stopped "$member" member
        held member "$member"
    fi
    within 120 tail --pid=$restarter -f /dev/null
    wait $restarter || fail "$phase: cr_restart of the tree exited $?: $(cat "$T/tree.$phase.err")"
    same "$T/tree.ref" "$T/tree.out"
done
pass
