# Sockets by policy.  A client whose server is outside the process: --sockets=refuse
# names the connection and fails; the default restores it as a reset connection (the
# program sees ECONNRESET, and its fd number is not reused).  A unix socket pair with
# data queued is restored connected with the data; a listening socket is bound again
# and accepts a client after the restart.  --sockets=delay waits until the client has
# closed its connection (and times out, harmlessly, when it never does).  A connection
# from outside waiting to be accepted refuses --sockets=refuse.  A UDP socket whose
# address another program took meanwhile fails the restart, naming it; a datagram
# queued from outside the process refuses the checkpoint.
. "$top_srcdir/tests/engine/lib.sh"
PY=${PYTHON3:-python3}
port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
SPORT=$(port)
LPORT=$(port)
# the server, outside the checkpointed process: greets every client and keeps it
"$PY" -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8); s.settimeout(120)
keep = []
while True:
    c, _ = s.accept(); c.sendall(b"welcome\n"); keep.append(c)
' "$SPORT" > "$T/server.log" 2>&1 &
track $!
for i in $(seq 1 100); do "$PY" -c "import socket; socket.create_connection(('127.0.0.1', $SPORT)).close()" 2>/dev/null && break; sleep 0.1; done

within 60 "$PROGS/sockets" "$SPORT" "$LPORT" 30 > "$T/ref" || fail "reference run failed"
grep -qx "client: EAGAIN" "$T/ref" || fail "the reference run's connection is not quiet: $(grep client "$T/ref")"
bg "$CR_RUN" "$PROGS/sockets" "$SPORT" "$LPORT" 30 > "$T/out" 2> "$T/run.err"
pid=$!
wait_runtime $pid
wait_lines "$T/out" 8
expect_refusal 95 "fd [0-9]+ is a TCP connection 127.0.0.1:[0-9]+ -> 127.0.0.1:$SPORT, which leads outside" \
    "$CR_CHECKPOINT" --sockets=refuse -f "$T/r.ctx" $pid
[ ! -e "$T/r.ctx" ] || fail "a refused checkpoint left a file"
expect_refusal 110 "fd [0-9]+ is a TCP connection 127.0.0.1:[0-9]+ -> 127.0.0.1:$SPORT, still open after 1000 ms" \
    "$CR_CHECKPOINT" --sockets=delay -t 1 -f "$T/d.ctx" $pid
[ ! -e "$T/d.ctx" ] && kill -0 $pid || fail "a delayed checkpoint that timed out left a file or harmed the process"
within 30 "$CR_CHECKPOINT" --kill -f "$T/s.ctx" $pid || fail "checkpoint failed"
wait_gone $pid
"$CR_INFO" "$T/s.ctx" > "$T/info"
grep -q "socket .*restored reset (was a TCP connection" "$T/info" || fail "the connection is not saved as reset"
grep -Eq "unixpair .*[1-9][0-9]* bytes queued" "$T/info" || fail "no queued data saved for the socket pair"
grep -q "listen .*TCP listening on 127.0.0.1:$LPORT" "$T/info" || fail "the listening socket is not saved"
truncate -s "$(fd_pos "$T/s.ctx" 1)" "$T/out"
bg "$CR_RESTART" "$T/s.ctx" 2> "$T/restart.err"
r=$!
restored_pid $r > /dev/null
"$PY" -c "import socket; c = socket.create_connection(('127.0.0.1', $LPORT)); c.sendall(b'ping\n'); c.close()" \
    || fail "the listening socket does not accept after the restart"
rc=0; wait $r || rc=$?
[ $rc = 0 ] || fail "the restarted program exited $rc"
grep -qx "accepted: ping" "$T/out" || fail "the restarted program did not accept the client"
grep -qx "client: ECONNRESET" "$T/out" || fail "the connection to the outside is not reset: $(grep client "$T/out")"
grep -qx "fd reuse: no" "$T/out" || fail "the dead socket's fd number was reused"
grep -v -e '^accepted' -e '^client' "$T/ref" > "$T/ref.f"
grep -v -e '^accepted' -e '^client' "$T/out" > "$T/out.f"
same "$T/ref.f" "$T/out.f"

# --sockets=delay: a client that connects, talks and closes in a loop is taken
# between two connections (a new one waits for the checkpoint), and goes on after
cat > "$T/short.py" <<'PYEOF'
import socket, sys, time
for i in range(30):
    c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    msg = c.recv(100)
    time.sleep(0.1)
    c.close()
    print(i, msg.decode().strip(), flush=True)
    time.sleep(0.03)
print("end")
PYEOF
within 60 "$PY" "$T/short.py" "$SPORT" > "$T/short.ref" || fail "reference run of the short client failed"
bg "$CR_RUN" "$PY" "$T/short.py" "$SPORT" > "$T/short.out" 2> "$T/short.err"
pid=$!
wait_runtime $pid
wait_lines "$T/short.out" 5
within 60 "$CR_CHECKPOINT" --sockets=delay -t 10 --kill -f "$T/short.ctx" $pid ||
    fail "the delayed checkpoint failed"
wait_gone $pid
! "$CR_INFO" "$T/short.ctx" | grep -q "restored reset" || fail "a connection was open in the delayed checkpoint"
within 60 "$CR_RESTART" "$T/short.ctx" >> "$T/short.out" 2> "$T/restart.err" || fail "restart of the short client failed"
same "$T/short.ref" "$T/short.out"

# a listening socket with a connection from outside not accepted yet: --sockets=refuse
# names it (by default it is dropped, its client sees a reset)
cat > "$T/listener.py" <<'PYEOF'
import socket, sys, time
l = socket.socket(); l.bind(("127.0.0.1", int(sys.argv[1]))); l.listen(4)
print("listening", flush=True)
time.sleep(60)
PYEOF
WPORT=$(port)
bg "$CR_RUN" "$PY" "$T/listener.py" "$WPORT" > "$T/listener.out" 2> "$T/listener.err"
pid=$!
wait_runtime $pid
wait_lines "$T/listener.out" 1
"$PY" -c "import socket, time; c = socket.create_connection(('127.0.0.1', $WPORT)); time.sleep(30)" &
waiter=$!
track $waiter
sleep 0.5
expect_refusal 95 "fd [0-9]+ \\(TCP listening on 127.0.0.1:$WPORT\\) has 1 connections from outside the process waiting to be accepted" \
    "$CR_CHECKPOINT" --sockets=refuse -f "$T/w.ctx" $pid
within 30 "$CR_CHECKPOINT" -f "$T/w.ctx" $pid || fail "the default checkpoint of a listener with a connection waiting failed"
kill $waiter $pid; wait $pid 2>/dev/null

# a bound UDP socket: its address taken by another program before the restart
cat > "$T/udp.py" <<'PYEOF'
import socket, sys, time
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", int(sys.argv[1])))
print("bound", flush=True)
time.sleep(60)
PYEOF
UPORT=$(port)
bg "$CR_RUN" "$PY" "$T/udp.py" "$UPORT" > "$T/udp.out" 2> "$T/udp.err"
pid=$!
wait_runtime $pid
wait_lines "$T/udp.out" 1
# from outside: a datagram the process has not read cannot be sent again from its sender
"$PY" -c "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('127.0.0.1', $UPORT))"
expect_refusal 95 "fd [0-9]+ \\(UDP socket 127.0.0.1:$UPORT\\) has datagrams queued from a sender outside the process" \
    "$CR_CHECKPOINT" -f "$T/q.ctx" $pid
kill $pid; wait $pid 2>/dev/null
bg "$CR_RUN" "$PY" "$T/udp.py" "$UPORT" > "$T/udp.out" 2> "$T/udp.err"
pid=$!
wait_runtime $pid
wait_lines "$T/udp.out" 1
within 30 "$CR_CHECKPOINT" --kill -f "$T/udp.ctx" $pid || fail "checkpoint of the UDP program failed"
wait_gone $pid
"$CR_INFO" "$T/udp.ctx" | grep -q "local .*UDP socket 127.0.0.1:$UPORT" || fail "the bound UDP socket is not saved"
"$PY" -c "import socket, time; u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(('127.0.0.1', $UPORT)); time.sleep(30)" &
taker=$!
track $taker
sleep 0.5
rc=0; within 30 "$CR_RESTART" "$T/udp.ctx" > /dev/null 2> "$T/udp-restart.err" || rc=$?
kill $taker
[ $rc != 0 ] || fail "the restart went on with the UDP socket's address taken"
grep -q "cannot bind fd [0-9]* again (UDP socket 127.0.0.1:$UPORT): Address already in use" "$T/udp-restart.err" ||
    fail "the restart does not say the address is in use: $(cat "$T/udp-restart.err")"
pass
