# Checkpoints taken without pause may fail (and say why), but may never change what a
# program computes: a shell loop with a pipeline per line (bash closes some fds twice;
# a fork or an exec may meet a checkpoint at any point), Python starting a subprocess
# per line (vfork + exec), and a program of many threads (in locks, condition
# variables, joins, sleeps, polls, futexes).  Each runs once uninterrupted and once
# under a stream of --tree checkpoints, some of which end it and restart it from the
# file just written: same output, no error from the program, no child killed, and
# most checkpoints taken.  One round by default (make check);
# ENDURANCE_SECONDS=N repeats the rounds for N seconds (scripts/soak).
. "$top_srcdir/tests/engine/lib.sh"
PY=${PYTHON3:-python3}
command -v "$PY" >/dev/null || fail "python3 is not installed (scripts/install-deps installs it)"
command -v bash sha1sum >/dev/null || fail "bash and sha1sum are needed (coreutils)"
cd "$T"
N=${ENDURANCE_LINES:-1500}

cat > "$T/sub.py" <<'PYEOF'
import subprocess, sys
with open(sys.argv[2], "a") as out:
    for i in range(1, int(sys.argv[1]) + 1):
        r = subprocess.run(["sha1sum"], input=b"%d\n" % i, stdout=subprocess.PIPE, check=True)
        out.write(r.stdout.decode()); out.flush()
PYEOF

# under_checkpoints NAME CMD...: CMD (writing $T/NAME.out) checkpointed again and
# again until it ends; every ENDURANCE_RESTART_EVERY-th checkpoint (default 25) ends
# it (--kill) and it goes on from that file under a new cr_restart, whose pid the
# next checkpoints name
under_checkpoints() {
    local name=$1 ok=0 failed=0 restarts=0 n=0 kill=; shift
    "$CR_RUN" "$@" 2> "$T/$name.err" &
    local pid=$!
    track $pid
    wait_runtime $pid
    while kill -0 $pid 2>/dev/null; do
        n=$((n + 1))
        kill=
        [ $((n % ${ENDURANCE_RESTART_EVERY:-25})) = 0 ] && kill=--kill
        if within 60 "$CR_CHECKPOINT" --tree $kill -f "$T/$name.ctx" $pid 2>> "$T/$name.ckpt.err"; then
            ok=$((ok + 1))
        else
            failed=$((failed + 1))
            continue
        fi
        [ -n "$kill" ] || continue
        local rc=0
        wait $pid 2>/dev/null || rc=$?
        [ $rc = 137 ] || fail "$name: the program exited $rc, not killed by its --kill checkpoint"
        rm -f "$T/$name.restored"
        "$CR_RESTART" --run-on-success="touch '$T/$name.restored'" "$T/$name.ctx" 2>> "$T/$name.err" &
        pid=$!
        track $pid
        restarts=$((restarts + 1))
        local i=0
        until [ -e "$T/$name.restored" ]; do
            i=$((i + 1)); [ $i -le 1200 ] || fail "$name: restart $restarts did not come back within 60 s"
            kill -0 $pid 2>/dev/null || fail "$name: restart $restarts failed: $(tail -3 "$T/$name.err")"
            sleep 0.05
        done
    done
    wait $pid || fail "$name: the program exited $? under checkpoints: $(head -5 "$T/$name.err")"
    [ -s "$T/$name.err" ] && fail "$name: the program said: $(sort "$T/$name.err" | uniq -c | sort -rn | head -5)"
    # a failure must name its cause, one line each
    local said
    said=$(grep -c '^cr_checkpoint: ..*' "$T/$name.ckpt.err" 2>/dev/null)
    [ "${said:-0}" -ge "$failed" ] ||
        fail "$name: a failed checkpoint said nothing"
    [ $ok -ge 10 ] && [ $ok -ge $((failed * 4)) ] ||
        fail "$name: $ok checkpoints taken, $failed failed: $(sed 's/[0-9]\+/N/g' "$T/$name.ckpt.err" | sort | uniq -c | sort -rn | head -3)"
    echo "$name: $ok checkpoints taken, $failed failed, $restarts restarts"
    # why they failed, for the soak's figures
    # (bash's own "Killed" notes for the programs the --kill checkpoints ended land
    # there too)
    [ $failed = 0 ] || grep '^cr_checkpoint: ' "$T/$name.ckpt.err" | sed 's/[0-9]\+/N/g' | sort | uniq -c |
        sort -rn | sed "s/^/  $name failed: /"
    rm -f "$T/$name.ckpt.err"
}

for i in $(seq 1 "$N"); do echo $i | sha1sum; done > "$T/shell.ref"
M=$((N / 3))
within 120 "$PY" "$T/sub.py" $M "$T/python.ref" || fail "the Python reference run failed"
within 120 "$PROGS/threads" > "$T/threads.ref" || fail "the threads reference run failed"
start=$(date +%s)
round=0
while :; do
    round=$((round + 1))
    rm -f "$T/shell.out" "$T/python.out"
    under_checkpoints shell bash -c "for i in \$(seq 1 $N); do echo \$i | sha1sum >> '$T/shell.out'; done"
    same "$T/shell.ref" "$T/shell.out"
    under_checkpoints python "$PY" "$T/sub.py" $M "$T/python.out"
    same "$T/python.ref" "$T/python.out"
    under_checkpoints threads sh -c "exec '$PROGS/threads' > '$T/threads.out'"
    same "$T/threads.ref" "$T/threads.out"
    [ $(( $(date +%s) - start )) -lt "${ENDURANCE_SECONDS:-0}" ] || break
done
echo "$round rounds"
pass
