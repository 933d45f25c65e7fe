# Another user cannot make a user's processes uncheckpointable by taking the names of
# their control sockets first (abstract unix names have no permissions), and an idle
# connection to one's own runtime does not hold up the requests behind it.
. "$top_srcdir/tests/engine/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root (scripts/test runs the tests/root suite as root)"
U=${TEST_USER:-nobody}
id "$U" >/dev/null 2>&1 || U=nobody
other=nobody
[ "$U" = nobody ] && other=daemon
run_as() { local who=$1; shift; setpriv --reuid="$who" --regid="$(id -g "$who")" --init-groups "$@"; }
chmod 755 "$T"
mkdir "$T/u" "$T/o" && chown "$U" "$T/u" && chown "$other" "$T/o"

# the other user binds the names of the next 400 pids, in every form they can guess
cat > "$T/squat.py" <<'PYEOF'
import os, socket, sys, time
first = int(open("/proc/sys/kernel/ns_last_pid").read()) + 1
held = []
for pid in range(first, first + 400):
    for name in ("slurm-cr/%d" % pid, "slurm-cr/%d." % pid):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            s.bind("\0" + name); s.listen(4); held.append(s)
        except OSError:
            s.close()
open(sys.argv[1], "w").write("%d %d\n" % (first, len(held)))
time.sleep(600)
PYEOF
run_as "$other" env PATH=/usr/local/bin:/usr/bin:/bin python3 "$T/squat.py" "$T/o/squatted" &
track $!
i=0; until [ -s "$T/o/squatted" ]; do i=$((i + 1)); [ $i -le 600 ] || fail "the squatter did not start"; sleep 0.05; done
read first held < "$T/o/squatted"
[ "$held" -gt 0 ] || fail "the squatter could bind no name"

within 60 "$PROGS/heapsum" 8 40 0 > "$T/ref"
cd "$T/u"
setpriv --reuid="$U" --regid="$(id -g "$U")" --init-groups \
    sh -c "exec '$CR_RUN' '$PROGS/heapsum' 8 40 100 > '$T/u/out' 2> '$T/u/run.err'" &
pid=$!
track $pid
[ "$pid" -ge "$first" ] && [ "$pid" -lt $((first + 400)) ] || skip "pid $pid fell outside the squatted range (a busy machine)"
wait_runtime $pid
wait_lines "$T/u/out" 3
grep -q "Address already in use" "$T/u/run.err" && fail "the runtime could not open its control socket: $(cat "$T/u/run.err")"
run_as "$U" timeout 60 "$CR_CHECKPOINT" -f "$T/u/a.ctx" $pid 2> "$T/ck1.err" ||
    fail "the squatted process could not be checkpointed: $(cat "$T/ck1.err")"

# the user's own idle connection: the next request is served within the bound
name=$(awk -v p="@slurm-cr/$pid." 'index($8, p) == 1 {print substr($8, 2); exit}' /proc/net/unix)
[ -n "$name" ] || fail "no control socket of process $pid in /proc/net/unix"
run_as "$U" env PATH=/usr/local/bin:/usr/bin:/bin python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect("\0" + sys.argv[1]); open(sys.argv[2], "w").write("connected\n"); time.sleep(600)' "$name" "$T/u/idle" &
track $!
i=0; until [ -s "$T/u/idle" ]; do i=$((i + 1)); [ $i -le 600 ] || fail "the idle client did not connect"; sleep 0.05; done
start=$(date +%s%N)
run_as "$U" timeout 30 "$CR_CHECKPOINT" -f "$T/u/b.ctx" $pid 2> "$T/ck2.err" ||
    fail "a checkpoint behind an idle connection failed: $(cat "$T/ck2.err")"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$ms" -lt 10000 ] || fail "a checkpoint behind an idle connection took $ms ms"

# another user is still refused, with the reason
expect_refusal 1 "belongs to uid $(id -u "$U")" setpriv --reuid="$other" --regid="$(id -g "$other")" --init-groups "$CR_CHECKPOINT" -f /tmp/x.$$ $pid
wait_gone $pid 120
same "$T/ref" "$T/u/out"
pass
