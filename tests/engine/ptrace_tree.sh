# A process tree that never ran under cr_run, checkpointed through ptrace
# (cr_checkpoint --backend=kmod: the tree by default) and restarted by cr_restart, gives
# the output of an uninterrupted run: a shell pipeline with data waiting in its pipes
# and a writer blocked on a full one; Python starting a subprocess per step (a child
# forked while the tree is being held must be held too: each checkpoint has the child
# with its parent, never the parent alone with a pipe leading out); CR_BACKEND=auto
# takes the same way.  A shell forking children as fast as it can, checkpointed with
# --kill, leaves none of them running: every one made during the hold was held and
# killed with the others.  A refused member, or a write that fails, leaves the whole
# tree running unharmed.  A process group (-g) is saved the same way.
. "$top_srcdir/tests/engine/lib.sh"
PY=${PYTHON3:-python3}
command -v "$PY" >/dev/null || fail "python3 is not installed (scripts/install-deps installs it)"
cd "$T"

# 1. a pipeline, its reader gated: at the checkpoint the pipe is full and cat blocked
awk 'BEGIN { srand(7); for (i = 0; i < 200000; i++) print int(rand() * 1000000000) }' > D
for f in D D D D; do cat $f; done | tr 0-9 a-j | sha256sum > ref.pipe
bash -c "cat D D D D | tr 0-9 a-j | (while [ ! -e go.pipe ]; do sleep 0.05; done; sha256sum) > out.pipe" \
    < /dev/null > /dev/null 2> pipe.err &
pid=$!
track $pid
i=0; until [ "$(pgrep -c -P $pid)" -ge 3 ]; do
    i=$((i + 1)); [ $i -le 600 ] || fail "the pipeline did not start"; sleep 0.05; done
within 120 "$CR_CHECKPOINT" --backend=kmod --kill -f pipe.ctx $pid 2> pipe.ckpt.err ||
    fail "the pipeline's checkpoint failed: $(cat pipe.ckpt.err)"
wait_gone $pid
"$CR_INFO" pipe.ctx > pipe.info || fail "cr_info cannot read the pipeline's file"
grep -q "^scope: *tree, " pipe.info || { head -20 pipe.info >&2; fail "the pipeline was not saved as a tree"; }
[ "$(grep -c '(ptrace)' pipe.info)" -ge 4 ] || fail "the tree's processes do not all have their registers"
touch go.pipe
within 120 "$CR_RESTART" pipe.ctx < /dev/null > /dev/null 2> pipe.restart.err ||
    fail "the restarted pipeline failed: $(cat pipe.restart.err pipe.err)"
same ref.pipe out.pipe

# 2. a subprocess per step: every checkpoint holds the child it is forking
cat > sub.py <<'PYEOF'
import subprocess, sys
with open(sys.argv[2], "a") as out:
    for i in range(1, int(sys.argv[1]) + 1):
        r = subprocess.run(["sha1sum"], input=b"%d\n" % i, stdout=subprocess.PIPE, check=True)
        out.write(r.stdout.decode()); out.flush()
PYEOF
N=1500
within 300 "$PY" sub.py $N ref.sub < /dev/null || fail "the reference run failed"
bg "$PY" sub.py $N out.sub < /dev/null 2> sub.err
pid=$!
wait_lines out.sub 20 60
ok=0
for i in $(seq 1 100); do
    kill -0 $pid 2>/dev/null || fail "the program ended before 15 checkpoints ($ok taken)"
    backend=kmod; [ $((i % 2)) = 0 ] && backend=auto
    within 60 "$CR_CHECKPOINT" --backend=$backend -f t.ctx $pid 2>> sub.ckpt.err || continue
    ok=$((ok + 1))
    "$CR_INFO" t.ctx > sub.info || fail "cr_info cannot read checkpoint $ok"
    grep -q '(ptrace)' sub.info || fail "checkpoint $ok (--backend=$backend) did not go through ptrace"
    if grep -q "^scope: *process," sub.info && grep -q "^ *[0-9]* *outside r.*writer is gone, 0 bytes" sub.info; then
        head -20 sub.info >&2
        fail "checkpoint $ok left the child out: its pipe leads outside"
    fi
    [ $ok -ge 15 ] && break
done
[ $ok -ge 15 ] || fail "only $ok of 100 checkpoints were taken: $(sort sub.ckpt.err | uniq -c | head -3)"
within 60 "$CR_CHECKPOINT" --backend=kmod --kill -f t.ctx $pid 2> sub.ckpt.err ||
    fail "the last checkpoint failed: $(cat sub.ckpt.err)"
wait_gone $pid
within 300 "$CR_RESTART" t.ctx < /dev/null 2> sub.restart.err || fail "the restart failed: $(cat sub.restart.err)"
same ref.sub out.sub

# 3. children forked while the tree is held do not escape it
mark=3600.$$
bash -c "for i in \$(seq 1 150); do sleep $mark & done; wait" < /dev/null > /dev/null 2>&1 &
pid=$!
track $pid
i=0; until [ "$(pgrep -c -P $pid)" -ge 3 ]; do
    i=$((i + 1)); [ $i -le 600 ] || fail "the shell did not fork"; sleep 0.01; done
within 120 "$CR_CHECKPOINT" --backend=kmod --kill -f fork.ctx $pid 2> fork.ckpt.err ||
    fail "the forking shell's checkpoint failed: $(cat fork.ckpt.err)"
wait_gone $pid
left=$(pgrep -f "^sleep $mark\$" | tr '\n' ' ')
if [ -n "$left" ]; then
    pkill -f "^sleep $mark\$"
    fail "children escaped the checkpoint: $left still run"
fi
held=$("$CR_INFO" fork.ctx | grep -Ec "^  [0-9]+ \(sleep\): child of $pid,")
[ "$held" -ge 2 ] || { "$CR_INFO" fork.ctx | head -20 >&2; fail "the file holds $held sleeping children"; }
# (ended only once the whole tree is restored: killed while cr_restart still completes
# them, they would leave it warnings about processes that are gone)
"$CR_RESTART" --run-on-success="touch '$T/fork.restored'" fork.ctx < /dev/null 2> fork.restart.err &
r=$!
track $r
i=0; until [ -e fork.restored ]; do
    kill -0 $r 2>/dev/null || fail "cr_restart ended: $(cat fork.restart.err)"
    i=$((i + 1)); [ $i -le 2400 ] || fail "the tree of $held children was not restored in 120 s"; sleep 0.05; done
n=$(pgrep -f "^sleep $mark\$" | wc -l)
[ "$n" -ge "$held" ] || fail "$n of the $held children came back: $(cat fork.restart.err)"
# (a note that this image, made without the runtime, takes a user namespace: nothing else)
! grep -v "^cr_restart: note: " fork.restart.err | grep -q . || fail "the restart said: $(head -5 fork.restart.err)"
pkill -f "^sleep $mark\$"
wait_gone $r 60

# 4. a member with the runtime: refused, the whole tree runs on
bash -c "'$CR_RUN' sleep 600 & sleep 600 & wait" < /dev/null > /dev/null 2>&1 &
pid=$!
track $pid
i=0; until [ "$(pgrep -c -P $pid)" -ge 2 ]; do
    i=$((i + 1)); [ $i -le 600 ] || fail "the shell did not start its children"; sleep 0.05; done
rt=; i=0; until [ -n "$rt" ]; do
    for c in $(pgrep -P $pid); do grep -q libcr_run /proc/$c/maps 2>/dev/null && rt=$c; done
    i=$((i + 1)); [ $i -le 600 ] || fail "the child under cr_run has no runtime"; sleep 0.05; done
expect_refusal 95 "runs under cr_run, and process $pid does not" \
    "$CR_CHECKPOINT" --backend=kmod -f x.ctx $pid
for c in $pid $(pgrep -P $pid); do
    grep -q 'TracerPid:.0$' /proc/$c/status || fail "process $c is left traced"
    [ "$(awk '{print $3}' /proc/$c/stat)" = S ] || fail "process $c is not running on: $(cat /proc/$c/stat)"
done
[ ! -e x.ctx ] || fail "a refused checkpoint left a file"
kill $(pgrep -P $pid) $pid 2>/dev/null

# 5. a write that fails (ENOSPC) with the whole tree held: it runs on, untraced
bash -c "sleep 600 & sleep 600 & wait" < /dev/null > /dev/null 2>&1 &
pid=$!
track $pid
i=0; until [ "$(pgrep -c -P $pid)" -ge 2 ]; do
    i=$((i + 1)); [ $i -le 600 ] || fail "the shell did not start its children"; sleep 0.05; done
expect_refusal 28 "No space left on device" "$CR_CHECKPOINT" --backend=kmod -F 3 $pid 3> /dev/full
for c in $pid $(pgrep -P $pid); do
    grep -q 'TracerPid:.0$' /proc/$c/status || fail "process $c is left traced"
    [ "$(awk '{print $3}' /proc/$c/stat)" = S ] || fail "process $c is not running on: $(cat /proc/$c/stat)"
done
kill $(pgrep -P $pid) $pid 2>/dev/null

# 6. a process group whose leader's parent is outside it (a shell's job), -g
W=$PROGS/ptrace_work
within 60 sh -c "'$W' 300 | cat" > ref.grp
bash -c "set -m; ('$W' 300 | cat > out.grp) & wait" < /dev/null > /dev/null 2> grp.err &
sh=$!
track $sh
wait_lines out.grp 20 60
job=$(pgrep -P $sh | head -n 1)
[ "$(ps -o pgid= $job | tr -d ' ')" = "$job" ] || fail "the job $job does not lead its process group"
within 60 "$CR_CHECKPOINT" --backend=kmod --kill -g -f grp.ctx $job 2> grp.ckpt.err ||
    fail "the job's checkpoint failed: $(cat grp.ckpt.err)"
wait_gone $sh
"$CR_INFO" grp.ctx | grep -q "^scope: *process group, 3 processes" || fail "the file is not the job's group of 3"
truncate -s "$(path_pos grp.ctx "$T/out.grp")" out.grp
within 120 "$CR_RESTART" grp.ctx < /dev/null 2> grp.restart.err || fail "the job's restart failed: $(cat grp.restart.err)"
same ref.grp out.grp
pass
