# The runtime stays out of the application's way: its own descriptors do not take
# the low numbers a program expects from open(), and a program that closes all its
# descriptors (close_range, close) does not close them.
. "$top_srcdir/tests/engine/lib.sh"
PY=${PYTHON3:-python3}
prog='import os; print(os.open("/dev/null", os.O_RDONLY), os.pipe())'
plain=$(within 30 "$PY" -c "$prog") || fail "python3 failed"
under=$(within 30 "$CR_RUN" "$PY" -c "$prog") || fail "python3 under cr_run failed"
[ "$plain" = "$under" ] || fail "descriptors differ under cr_run: '$under' instead of '$plain'"

# a program that closes "all" its fds (as daemons do) can still be checkpointed
prog='import os, sys, time
os.closerange(3, 65536)
for fd in range(3, 1100):
    try:
        os.close(fd)
    except OSError:
        pass
for i in range(30):
    print(i, flush=True)
    time.sleep(0.05)'
within 30 "$PY" -c "$prog" > "$T/ref" || fail "python3 failed"
bg "$CR_RUN" "$PY" -c "$prog" > "$T/out" 2> "$T/err"
pid=$!
wait_runtime $pid
wait_lines "$T/out" 5
within 30 "$CR_CHECKPOINT" --kill -f "$T/c.ctx" $pid || fail "a program that closed all its fds cannot be checkpointed"
wait_gone $pid
truncate -s "$(fd_pos "$T/c.ctx" 1)" "$T/out"
within 30 "$CR_RESTART" "$T/c.ctx" || fail "restart failed"
same "$T/ref" "$T/out"
pass
