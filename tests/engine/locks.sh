# File locks at restart: a lock another process took after the checkpoint fails the
# restart with the file named (the program never runs without it), and once released
# the restart holds every lock again.
. "$top_srcdir/tests/engine/lib.sh"
CONF=$top_builddir/tests/conformance
[ -x "$CONF/flock_held" ] && [ -x "$CONF/posix_locks" ] || fail "the conformance programs are not built"

PY=${PYTHON3:-python3}
# locked NAME FILE HOLDER...: checkpoint the program NAME (its locks on FILE), lock
# FILE from outside with HOLDER, then the restart refuses; without it, it restores
# them all
locked() {
    local name=$1 file=$2 pid holder r
    shift 2
    mkdir "$T/$name" && cd "$T/$name" || fail "mkdir"
    bg "$CR_RUN" "$CONF/$name" > out 2> err
    pid=$!
    wait_runtime $pid
    wait_lines out 1
    within 30 "$CR_CHECKPOINT" --kill -f "$T/$name.ctx" $pid || fail "$name: checkpoint failed"
    wait_gone $pid
    "$CR_INFO" "$T/$name.ctx" | grep -q "^  locks: " || fail "$name: cr_info shows no locks"
    "$@" > holder.out &
    holder=$!
    wait_lines holder.out 1
    expect_refusal 11 "another process locks the file of fd [0-9]+ now: .*: $T/$name/$file" "$CR_RESTART" "$T/$name.ctx"
    kill $holder; wait $holder 2> /dev/null
    bg "$CR_RESTART" "$T/$name.ctx" >> out
    r=$!
    pid=$(restored_pid $r)
    kill -USR2 "$pid"
    within 30 tail --pid=$r -f /dev/null
    [ "$(tail -n 1 out)" = PASS ] || fail "$name after the restart: $(tail -n 1 out)"
    cd "$T"
}
locked flock_held excl "$PY" -c 'import fcntl, time
f = open("excl")
fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
print("locked", flush=True)
time.sleep(60)'
locked posix_locks records "$PY" -c 'import fcntl, time
f = open("records", "r+")
fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 250)
print("locked", flush=True)
time.sleep(60)'

pass
