# Checkpoints taken without pause may fail (and say why), but may never change what a
# program computes: a shell loop with a pipeline per line (bash closes some fds twice;
# a fork or an exec may meet a checkpoint at any point), Python starting a subprocess
# per line (vfork + exec), and a program of many threads (in locks, condition
# variables, joins, sleeps, polls, futexes).  Each runs once uninterrupted and once
# under a stream of --tree checkpoints: same output, no error from the program, no
# child killed, and most checkpoints taken.  One round by default (make check);
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
# again until it ends
under_checkpoints() {
    local name=$1 ok=0 failed=0; shift
    "$CR_RUN" "$@" 2> "$T/$name.err" &
    local pid=$!
    BG_PIDS="$BG_PIDS $pid"
    wait_runtime $pid
    while kill -0 $pid 2>/dev/null; do
        if within 60 "$CR_CHECKPOINT" --tree -f "$T/$name.ctx" $pid 2>> "$T/$name.ckpt.err"; then
            ok=$((ok + 1))
        else
            failed=$((failed + 1))
        fi
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
    echo "$name: $ok checkpoints taken, $failed failed"
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
