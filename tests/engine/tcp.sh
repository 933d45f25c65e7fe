# TCP connections inside the process, where they cannot come back as they were, or
# not on their ports.  A peer that shut down writing after bytes it has not sent yet
# (FIN_WAIT1): the checkpoint is refused with EAGAIN, naming the connection, and the
# program goes on with every byte and then EOF.  A restart while the checkpointed
# process still holds the ports: each end is bound to another port, cr_restart says
# so, and the connection carries its data.  --sockets=delay does not wait for such a
# connection (it leads nowhere outside).  A connection reset with the error not read
# yet is saved, the original and the restarted process each getting ECONNRESET; a
# client with data waiting in a backlog that an epoll watches is refused.  Checkpointed
# with --stop (as a Slurm vacate does, whose scancel then kills the step): killed
# while stopped, the connection ends with a reset, so that no TIME_WAIT keeps its ports
# from the restart; continued instead, its SO_LINGER is the program's again.  A
# TIME_WAIT entry a connection the program closed itself left on its listener's port
# is ended at restart (its other end being of this host), not waited out.
. "$top_srcdir/tests/engine/lib.sh"
PY=${PYTHON3:-python3}
PROG='
import errno, os, signal, socket, sys
mode = sys.argv[1]
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(4)
c = socket.create_connection(l.getsockname()); k, _ = l.accept()
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR2])
def wait():
    print("ready", flush=True)
    if signal.sigtimedwait([signal.SIGUSR2], 100) is None:
        sys.exit("no SIGUSR2")
if mode == "finwait1":
    c.setblocking(False); sent = 0
    try:
        while True: sent += c.send(b"x" * 65536)
    except BlockingIOError:
        pass
    c.shutdown(socket.SHUT_WR)
    wait()
    k.settimeout(20); got = 0
    while True:
        b = k.recv(1 << 20)
        if not b: break
        got += len(b)
    print("sent", sent, "got", got, "then EOF", flush=True)
elif mode == "epoll":
    w = socket.create_connection(l.getsockname()); w.sendall(b"waiting")
    import select
    ep = select.epoll(); ep.register(w.fileno(), select.EPOLLIN)
    wait()
    a, _ = l.accept(); a.settimeout(5)
    print("accepted", a.recv(64).decode(), flush=True)
elif mode == "reset":
    c.sendall(b"unread"); k.recv(1); k.close()  # 5 bytes unread: a reset
    c.settimeout(5)
    wait()
    try:
        print("read", c.recv(64), flush=True)
    except ConnectionResetError:
        print("reset", flush=True)
elif mode == "stopped":
    # a listener that stays, and a connection it accepted on a lower fd than its client
    # (closed first when killed: the TIME_WAIT is on the port of the listener)
    hole = os.open("/dev/null", os.O_RDONLY)
    c2 = socket.create_connection(l.getsockname())
    os.close(hole)
    k2, _ = l.accept()
    assert k2.fileno() < c2.fileno()
    c2.sendall(b"to server\n"); k2.sendall(b"to client\n")
    wait()
    print(k2.recv(64).decode().strip(), "/", c2.recv(64).decode().strip(), flush=True)
    import struct
    print("linger", *struct.unpack("ii", k2.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, 8)), flush=True)
elif mode == "closed":
    # the accepted end closed first: a TIME_WAIT entry on the port of the listener
    # (without SO_REUSEADDR), made by the program itself before its checkpoint
    k.close(); c.settimeout(20)
    assert c.recv(1) == b""
    c.close()
    print("port", l.getsockname()[1], flush=True)
    wait()
    c3 = socket.create_connection(l.getsockname()); k3, _ = l.accept()
    k3.sendall(b"listening again\n")
    print(c3.recv(64).decode().strip(), flush=True)
else:
    l.close()
    c.sendall(b"to server\n"); k.sendall(b"to client\n")
    wait()
    print(k.recv(64).decode().strip(), "/", c.recv(64).decode().strip(), flush=True)
'

# FIN_WAIT1 with bytes not sent: saved (drained at the freeze and served before the
# EOF, resources/tcp_held): the original and the restarted process each get them all
bg "$CR_RUN" "$PY" -c "$PROG" finwait1 > "$T/f.out" 2> "$T/f.err"
pid=$!
wait_runtime $pid
wait_lines "$T/f.out" 1
within 60 "$CR_CHECKPOINT" -f "$T/f.ctx" $pid 2> "$T/f.ckpt.err" ||
    fail "the checkpoint of a connection with bytes behind its FIN failed: $(cat "$T/f.ckpt.err")"
kill -USR2 $pid
rc=0; wait $pid || rc=$?
[ $rc = 0 ] || fail "the program exited $rc after its checkpoint: $(cat "$T/f.err")"
grep -Eq "^sent ([0-9]+) got \1 then EOF$" "$T/f.out" || fail "the program lost bytes: $(tail -n 1 "$T/f.out")"
"$CR_RESTART" "$T/f.ctx" 2> "$T/f.restart.err" &
r=$!
track $r
i=0; until c=$(cat /proc/$r/task/$r/children 2>/dev/null | awk '{print $1}') && [ -n "$c" ] &&
           grep -q "@slurm-cr/$c\." /proc/net/unix; do
    kill -0 $r 2>/dev/null || fail "the restart failed: $(cat "$T/f.restart.err")"
    i=$((i + 1)); [ $i -le 600 ] || fail "the restarted process did not come up"; sleep 0.05; done
kill -USR2 $r # (passed on)
rc=0; wait $r || rc=$?
[ $rc = 0 ] || fail "the restarted program exited $rc: $(cat "$T/f.restart.err")"
grep -Eq "^sent ([0-9]+) got \1 then EOF$" "$T/f.out" || fail "the restarted program lost bytes: $(tail -n 1 "$T/f.out")"

# a connection reset (its peer closed with bytes unread), the error not read yet:
# saved (the error taken, and given back to the program by a socket reset again in
# its place): the original and the restarted process each still get it
bg "$CR_RUN" "$PY" -c "$PROG" reset > "$T/e.out" 2> "$T/e.err"
pid=$!
wait_runtime $pid
wait_lines "$T/e.out" 1
within 30 "$CR_CHECKPOINT" -f "$T/e.ctx" $pid 2> "$T/e.ckpt.err" ||
    fail "the checkpoint of a reset connection failed: $(cat "$T/e.ckpt.err")"
"$CR_INFO" "$T/e.ctx" | grep -q "tcp .*over both ways" || fail "the reset connection is not saved as TCP"
kill -USR2 $pid
rc=0; wait $pid || rc=$?
[ $rc = 0 ] && [ "$(grep -cx reset "$T/e.out")" = 1 ] ||
    fail "the program lost its reset after its checkpoint: $(cat "$T/e.out" "$T/e.err")"
# (restarted once the original is gone: its listener had the port; the restored
# process writes where the original was in the same file)
truncate -s "$(fd_pos "$T/e.ctx" 1)" "$T/e.out"
bg "$CR_RESTART" "$T/e.ctx" 2> "$T/e.rerr"
r=$!
target=$(restored_pid $r)
kill -USR2 "$target"
rc=0; wait $r || rc=$?
[ $rc = 0 ] && [ "$(grep -cx reset "$T/e.out")" = 1 ] ||
    fail "the restarted program did not get its reset: $(cat "$T/e.out" "$T/e.rerr")"

# a client with data in the backlog, watched by an epoll (a socket put in its place
# would not be): refused before any is taken out, the program accepts it with its data
bg "$CR_RUN" "$PY" -c "$PROG" epoll > "$T/p.out" 2> "$T/p.err"
pid=$!
wait_runtime $pid
wait_lines "$T/p.out" 1
expect_refusal 95 "fd [0-9]+ \\(TCP connection .*, not accepted yet by fd [0-9]+\\) has data sent on it, and fd [0-9]+ waiting in the same backlog is watched by an epoll" \
    "$CR_CHECKPOINT" -f "$T/p.ctx" $pid
kill -USR2 $pid
rc=0; wait $pid || rc=$?
[ $rc = 0 ] && grep -qx "accepted waiting" "$T/p.out" || fail "the program lost its client after a refused checkpoint: $(cat "$T/p.out" "$T/p.err")"

# --sockets=delay: nothing to wait for; then a restart while the original lives
bg "$CR_RUN" "$PY" -c "$PROG" taken > "$T/t.out" 2> "$T/t.err"
pid=$!
wait_runtime $pid
wait_lines "$T/t.out" 1
within 30 "$CR_CHECKPOINT" --sockets=delay -t 3 -f "$T/t.ctx" $pid 2> "$T/t.ckpt.err" ||
    fail "--sockets=delay waited for a connection inside the process: $(cat "$T/t.ckpt.err")"
"$CR_INFO" "$T/t.ctx" > "$T/t.info"
[ "$(grep -c " tcp .*established, 10 bytes queued" "$T/t.info")" = 2 ] ||
    fail "the connection's ends are not saved as TCP with their data: $(grep tcp "$T/t.info")"
bg "$CR_RESTART" "$T/t.ctx" 2> "$T/r.err"
r=$!
target=$(restored_pid $r)
kill -USR2 "$target"
rc=0; wait $r || rc=$?
[ $rc = 0 ] || fail "the restart while the ports are taken exited $rc: $(cat "$T/r.err")"
grep -Eq "127.0.0.1:[0-9]+ is taken on this host: bound to 127.0.0.1:[0-9]+ instead" "$T/r.err" ||
    fail "cr_restart did not say which port it took instead: $(cat "$T/r.err")"
# (the restored process writes on where the original was in the same file)
grep -qx "to server / to client" "$T/t.out" || fail "the connection made on other ports lost its data: $(cat "$T/t.out")"
truncate -s "$(fd_pos "$T/t.ctx" 1)" "$T/t.out"
kill -USR2 $pid
wait $pid || fail "the original program failed after its checkpoint: $(cat "$T/t.err")"
grep -qx "to server / to client" "$T/t.out" || fail "the original lost its data: $(cat "$T/t.out")"

# --stop, then killed while stopped: restarted on the same ports at once
bg "$CR_RUN" "$PY" -c "$PROG" stopped > "$T/s.out" 2> "$T/s.err"
pid=$!
wait_runtime $pid
wait_lines "$T/s.out" 1
within 30 "$CR_CHECKPOINT" --stop -f "$T/s.ctx" $pid 2> "$T/s.ckpt.err" ||
    fail "the checkpoint with --stop failed: $(cat "$T/s.ckpt.err")"
kill -KILL $pid
wait $pid 2>/dev/null
bg "$CR_RESTART" "$T/s.ctx" 2> "$T/s.rerr"
r=$!
target=$(restored_pid $r)
kill -USR2 "$target"
rc=0; wait $r || rc=$?
[ $rc = 0 ] || fail "the restart after a stop and a kill exited $rc: $(cat "$T/s.rerr")"
! grep -q "is taken on this host" "$T/s.rerr" ||
    fail "the ports of a connection killed while stopped were still taken (TIME_WAIT): $(cat "$T/s.rerr")"
grep -qx "to server / to client" "$T/s.out" || fail "the restarted connection lost its data: $(cat "$T/s.out")"
# a listener whose port a connection the program closed itself keeps in TIME_WAIT:
# the entry ended at restart (its other end is of this host), not waited out for a
# minute (the kernel's: a restart within 30 s is the entry ended)
bg "$CR_RUN" "$PY" -c "$PROG" closed > "$T/w.out" 2> "$T/w.err"
pid=$!
wait_runtime $pid
wait_lines "$T/w.out" 2
port=$(awk '$1 == "port" { print $2 }' "$T/w.out")
within 30 "$CR_CHECKPOINT" -f "$T/w.ctx" $pid 2> "$T/w.ckpt.err" ||
    fail "the checkpoint of a listener with a TIME_WAIT on its port failed: $(cat "$T/w.ckpt.err")"
kill -KILL $pid
wait $pid 2>/dev/null
grep -qi "^ *[0-9]*: [0-9A-F]*:$(printf %04X "$port") [0-9A-F:]* 06 " /proc/net/tcp ||
    fail "no TIME_WAIT entry on the listener's port $port: the test shows nothing"
truncate -s "$(fd_pos "$T/w.ctx" 1)" "$T/w.out"
t0=$(date +%s)
bg "$CR_RESTART" "$T/w.ctx" 2> "$T/w.rerr"
r=$!
target=$(restored_pid $r)
took=$(($(date +%s) - t0))
[ $took -lt 30 ] || fail "the restart took $took s: the TIME_WAIT on the listener's port was waited out"
kill -USR2 "$target"
rc=0; wait $r || rc=$?
[ $rc = 0 ] && grep -qx "listening again" "$T/w.out" ||
    fail "the restarted listener did not take a connection: exit $rc: $(cat "$T/w.out" "$T/w.rerr")"

# --stop, then continued: its SO_LINGER as it was (off), a close its own
bg "$CR_RUN" "$PY" -c "$PROG" stopped > "$T/c.out" 2> "$T/c.err"
pid=$!
wait_runtime $pid
wait_lines "$T/c.out" 1
within 30 "$CR_CHECKPOINT" --stop -f "$T/c.ctx" $pid 2> "$T/c.ckpt.err" ||
    fail "the checkpoint with --stop failed: $(cat "$T/c.ckpt.err")"
kill -CONT $pid
kill -USR2 $pid
wait $pid || fail "the program continued after --stop failed: $(cat "$T/c.err")"
grep -qx "linger 0 0" "$T/c.out" || fail "the continued program's SO_LINGER is not its own: $(cat "$T/c.out")"
pass
