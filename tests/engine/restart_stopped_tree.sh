# A tree restart in which a process is stopped (SIGSTOP, as `scontrol suspend` sends)
# after it made its first children and before its last, for longer than the 30 s the
# others wait for a process that is merely slow (issue 15): nothing gives up, and once
# it is continued the tree runs on as it would have.  Before the fix its children
# failed the restart with "the other processes of the tree were not created within 30 s".
# (In its pid namespace, --no-restore-pid: the namespace's init between cr_restart and the root.)
. "$top_srcdir/tests/engine/lib.sh"
NKIDS=40
HOLD_S=${RESTART_STOP_TREE_SECONDS:-36} # more than the creation barrier's 30 s

state() { awk '{print $3}' "/proc/$1/stat" 2>/dev/null; }

cat > "$T/tree.sh" <<EOF
for i in \$(seq 1 $NKIDS); do sleep 900 & done
echo started > '$T/out'
while [ ! -e '$T/go' ]; do sleep 0.1; done
kill \$(jobs -p)
wait
echo done >> '$T/out'
EOF
bg "$CR_RUN" bash "$T/tree.sh" 2> "$T/run.err"
pid=$!
wait_runtime $pid
wait_lines "$T/out" 1 60
within 120 "$CR_CHECKPOINT" --tree --kill -f "$T/tree.ctx" $pid || fail "the tree's checkpoint failed"
wait_gone $pid

# first_child_fast PID: sets $kid to its first child, polled with builtins only (the
# root makes its children within milliseconds); at most 120 s
first_child_fast() {
    local end=$((SECONDS + 120))
    kid=
    # (the file ends without a newline: read says EOF but sets kid)
    until read -r kid _ < "/proc/$1/task/$1/children" 2>/dev/null; [ -n "$kid" ]; do
        [ $SECONDS -le $end ] || fail "$1 started no child within 120 s"
        kill -0 "$1" 2>/dev/null || fail "$1 ended without a child: $(cat "$T/r.err")"
    done
}

# Restart until the root is caught with some of its children made, not all: polled
# from here, it may be too late (bounded number of tries).
caught=
for try in 1 2 3 4 5 6 7 8 9 10; do
    rm -f "$T/go"
    echo started > "$T/out"
    "$CR_RESTART" --no-restore-pid "$T/tree.ctx" 2> "$T/r.err" &
    restarter=$!
    track $restarter
    first_child_fast $restarter
    init=$kid
    first_child_fast "$init"
    root=$kid
    first_child_fast "$root"
    kill -STOP "$root"
    i=0; until [ "$(state "$root")" = T ]; do i=$((i + 1)); [ $i -le 600 ] || fail "the root did not stop"; sleep 0.01; done
    made=$(wc -w < "/proc/$root/task/$root/children")
    if [ "$made" -lt $NKIDS ]; then
        caught=$made
        break
    fi
    # too late: every child was made; this try proves nothing
    kill -KILL "$init"
    wait $restarter 2>/dev/null
done
[ -n "$caught" ] || fail "the root was never caught while it made its children (10 tries)"
echo "the root stopped with $caught of $NKIDS children made (try $try)"

for i in $(seq 1 $((HOLD_S * 4))); do
    kill -0 $restarter 2>/dev/null || { wait $restarter; fail "cr_restart ended (exit $?) while the root was stopped with $caught of $NKIDS children made: $(cat "$T/r.err")"; }
    [ "$(state "$root")" = T ] || fail "the root is no longer stopped ($(state "$root"))"
    sleep 0.25
done
kill -CONT "$root"
i=0; until [ "$(wc -w < "/proc/$root/task/$root/children")" -ge $NKIDS ]; do
    i=$((i + 1)); [ $i -le 1200 ] || fail "the root did not make its other children once continued"; sleep 0.05
done
touch "$T/go"
within 120 tail --pid=$restarter -f /dev/null
wait $restarter || fail "cr_restart exited $? after the root was continued: $(cat "$T/r.err")"
[ "$(cat "$T/out")" = "started
done" ] || fail "the restored tree did not run on: $(cat "$T/out")"
pass
