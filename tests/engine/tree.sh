# Process trees: a bash pipeline with a subprocess per line, a parent that waits for
# its child by pid, parent and child writing through one shared offset, a zombie
# whose parent has not reaped it yet, a session and a process group inside the tree,
# a socket pair between two processes, memory they share, a pseudo-terminal, Python
# asyncio with a subprocess, a TCP connection between two processes, a tree that goes
# on after its checkpoint.
# Each is checkpointed mid-way, killed and restarted from the one tree file, and its
# output compared with an uninterrupted run.
. "$top_srcdir/tests/engine/lib.sh"
PY=${PYTHON3:-python3}
command -v "$PY" >/dev/null || fail "python3 is not installed (scripts/install-deps installs it)"
cd "$T"

# run_tree NAME SECONDS_BEFORE_CHECKPOINT CMD...: CMD uninterrupted into NAME.ref (its
# files in ref/), then under cr_run into run/, checkpointed with --kill, restarted;
# NAME.out is its stdout from both parts.  lines:N instead of SECONDS: once its stdout
# has N lines (a slow machine, qemu's emulation, may take seconds to start the tree)
run_tree() {
    local name=$1 wait=$2; shift 2
    mkdir -p "$T/ref.$name" "$T/run.$name"
    (cd "$T/ref.$name" && within 60 "$@" > "$T/$name.ref") || fail "$name: the reference run failed"
    cd "$T/run.$name"
    bg "$CR_RUN" "$@" > "$T/$name.out" 2> "$T/$name.run.err"
    local pid=$!
    wait_runtime $pid
    case $wait in
    lines:*) wait_lines "$T/$name.out" "${wait#lines:}" 120 ;;
    *) sleep "$wait" ;;
    esac
    within 60 "$CR_CHECKPOINT" --kill -f "$T/$name.ctx" $pid 2> "$T/$name.ckpt.err" ||
        { cat "$T/$name.ckpt.err" >&2; fail "$name: the tree checkpoint failed"; }
    wait_gone $pid
    "$CR_INFO" "$T/$name.ctx" > "$T/$name.info" || fail "$name: cr_info refuses the tree file"
    grep -q "^scope:    tree" "$T/$name.info" || fail "$name: not a tree file"
    local rc=0
    within 60 "$CR_RESTART" "$T/$name.ctx" >> "$T/$name.out" 2> "$T/$name.restart.err" || rc=$?
    [ $rc = 0 ] || { cat "$T/$name.restart.err" >&2; fail "$name: cr_restart exited $rc"; }
    cd "$T"
}

# 1. the issue's example: a loop with a sleep per line piped into a loop
run_tree pipeline 2 bash -c 'for i in $(seq 1 100); do echo $i; sleep 0.05; done |
                              while read x; do echo $((x*x)); done > out; echo end'
same "$T/ref.pipeline/out" "$T/run.pipeline/out"
# the two subshells of the pipeline (a sleep too, unless it hit between two of them)
[ "$(grep -Ec "^  [0-9]+ \(bash\): child of [1-9]" "$T/pipeline.info")" -ge 2 ] ||
    fail "the pipeline's subshells were not in the tree: $(grep -E '^  [0-9]+ \(' "$T/pipeline.info")"
[ "$(grep -c "(bash): child of" "$T/pipeline.info")" -ge 3 ] || fail "the subshells were not in the tree"
same "$T/pipeline.ref" "$T/pipeline.out"

# 2. a parent waiting by pid for a child that is running at the checkpoint; the pids
# the tree sees stay the same
run_tree waitpid lines:1 bash -c '(sleep 2; exit 7) & p=$!; echo "me $$ child $p";
                            sleep 0.5; wait $p; echo "child exited $?"; echo "me $$"'
grep -q "child exited 7" "$T/waitpid.out" || fail "wait for the child by pid: $(cat "$T/waitpid.out")"
me=$(sed -n 's/^me \([0-9]*\) child.*/\1/p' "$T/waitpid.out")
grep -q "^me $me\$" "$T/waitpid.out" || fail "the restored shell's \$\$ changed: $(cat "$T/waitpid.out")"

# 3. one file opened by the parent, written by it and by its children (one offset)
run_tree shared 1 bash -c 'exec > log; sleep 30 & for i in $(seq 1 30); do (echo "child $i");
                           echo "parent $i"; sleep 0.05; done; kill $!'
same "$T/ref.shared/log" "$T/run.shared/log"
grep -q " shared " "$T/shared.info" || fail "no fd was saved as shared between processes"

# 4. a zombie at the checkpoint: its parent reaps it after the restart, with its status;
# 5. a child that made its own session, a grandchild in the child's group
cat > "$T/ids.py" <<'PYEOF'
import os, sys, time
z = os.fork()
if z == 0:
    os._exit(5)
r, w = os.pipe()
c = os.fork()
if c == 0:
    os.setsid()
    g = os.fork()
    if g == 0:
        os.setpgid(0, os.getppid())
        for i in range(30):
            time.sleep(0.1)
        os._exit(0)
    for i in range(30):
        os.write(w, b"x")
        time.sleep(0.1)
    os.waitpid(g, 0)
    os._exit(3)
time.sleep(1)   # the zombie is still there at the checkpoint
got = 0
while got < 30:
    got += len(os.read(r, 100))
pid, st = os.waitpid(z, 0)
print("zombie", pid == z, os.WEXITSTATUS(st))
sid = os.getsid(c)
print("child leads its session", sid == c)
pid, st = os.waitpid(c, 0)
print("child", pid == c, os.WEXITSTATUS(st), "bytes", got)
PYEOF
run_tree ids 1.5 "$PY" "$T/ids.py"
grep -q "exited (wait status 0x500), not reaped" "$T/ids.info" || fail "the zombie was not saved"
same "$T/ids.ref" "$T/ids.out"

# 6. a unix socket pair between a parent and its child, with data in flight
run_tree pair 1 "$PROGS/pairtree" 60
grep -q "unixpair" "$T/pair.info" || fail "the socket pair was not saved as a pair"
same "$T/pair.ref" "$T/pair.out"

# 7. memory shared by a parent and its child: MAP_SHARED anonymous, a memfd, a /dev/shm
# file; the parent sees every value the child writes, after the restart too
cat > "$T/shm.py" <<'PYEOF'
import mmap, os, time
anon = mmap.mmap(-1, 4096, mmap.MAP_SHARED)
mfd = os.memfd_create("counter")
os.ftruncate(mfd, 4096)
mem = mmap.mmap(mfd, 4096, mmap.MAP_SHARED)
path = "/dev/shm/slurm-cr-test-%d" % os.getpid()
sfd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
os.ftruncate(sfd, 4096)
shm = mmap.mmap(sfd, 4096, mmap.MAP_SHARED)
os.unlink(path)   # still mapped and open: saved as a deleted file
c = os.fork()
if c == 0:
    for i in range(1, 41):
        mem[0:4] = (2 * i).to_bytes(4, "little")
        shm[0:4] = (3 * i).to_bytes(4, "little")
        anon[0:4] = i.to_bytes(4, "little")
        time.sleep(0.05)
    os._exit(0)
last = 0
while last < 40:
    v = int.from_bytes(anon[0:4], "little")
    if v != last:
        m, s = int.from_bytes(mem[0:4], "little"), int.from_bytes(shm[0:4], "little")
        print("seen", v, m >= 2 * v, s >= 3 * v, flush=True)
        last = v
    time.sleep(0.005)
os.waitpid(c, 0)
print("end")
PYEOF
run_tree shm 1 "$PY" "$T/shm.py"
grep -q "shared-anon.*memfd:counter" "$T/shm.info" || fail "the memfd mapping was not saved"
! grep -q False "$T/shm.out" || fail "a value written by the child was not seen: $(grep False "$T/shm.out")"
[ "$(grep -c '^seen' "$T/shm.out")" -ge 30 ] && tail -n 2 "$T/shm.out" | grep -q "^seen 40" ||
    fail "the parent stopped seeing the child's writes: $(tail -n 3 "$T/shm.out")"

# 8. a terminal program under a pseudo-terminal whose master is in the tree: a new
# pair, the child's controlling terminal again
run_tree pty 1 "$PROGS/ptytree" 40
grep -q " pty " "$T/pty.info" || fail "the pseudo-terminal was not saved"
same "$T/pty.ref" "$T/pty.out"

# 8b. script(1): a terminal session recorded through a pseudo-terminal; script waits in
# poll(), which the checkpoint's signal must not end with EINTR
run_tree script 1 script -qfec "bash -c 'for i in \$(seq 1 40); do echo line \$i \$(tty | cut -c1-8); sleep 0.05; done'" /dev/null
same "$T/script.ref" "$T/script.out"

# 9. Python asyncio (epoll, a thread waiting for the child) reading a subprocess's pipe
cat > "$T/aio.py" <<'PYEOF'
import asyncio
async def main():
    proc = await asyncio.create_subprocess_exec(
        "bash", "-c", "for i in $(seq 1 40); do echo $i; sleep 0.05; done",
        stdout=asyncio.subprocess.PIPE)
    async def ticker():
        for k in range(30):
            await asyncio.sleep(0.07)
    t = asyncio.create_task(ticker())
    total = 0
    while True:
        line = await proc.stdout.readline()
        if not line:
            break
        total += int(line)
        print("got", int(line), total, flush=True)
    await t
    print("exit", await proc.wait(), "total", total, flush=True)
asyncio.run(main())
PYEOF
run_tree aio lines:1 "$PY" "$T/aio.py"
same "$T/aio.ref" "$T/aio.out"

# 10. a server and its client in the tree over a loopback TCP connection
run_tree tcp 1 "$PROGS/tcptree" 60
[ "$(grep -c " tcp " "$T/tcp.info")" = 2 ] || fail "the TCP connection was not saved as a TCP pair"
same "$T/tcp.ref" "$T/tcp.out"

# 11. a checkpoint after which the tree goes on (copy-on-write snapshots: each process
# runs again as soon as all are taken, even one that ends before its image is written);
# the tree finishes, then is restarted from that checkpoint and finishes again the same
mkdir -p "$T/run.cow" && cd "$T/run.cow"
bg "$CR_RUN" bash -c 'for i in $(seq 1 100); do echo $i; sleep 0.05; done |
                      while read x; do echo $((x*x)); done > out; echo end' > "$T/cow.out"
pid=$!
wait_runtime $pid
sleep 2
within 60 "$CR_CHECKPOINT" -f "$T/cow.ctx" $pid || fail "the checkpoint of a running tree failed"
wait_gone $pid
same "$T/ref.pipeline/out" "$T/run.cow/out"
within 60 "$CR_RESTART" "$T/cow.ctx" >> "$T/cow.out" 2> "$T/cow.restart.err" || fail "restart from the running tree's checkpoint failed"
same "$T/ref.pipeline/out" "$T/run.cow/out"
cd "$T"

# 12. a restarted tree (with new pids in place, or in its own pid namespace under
# cr_restart's child, its init) checkpointed again and restarted again: two generations
mkdir -p "$T/run.gen" && cd "$T/run.gen"
bg "$CR_RUN" bash -c 'for i in $(seq 1 120); do echo $i; sleep 0.05; done |
                      while read x; do echo $((x*x)); done > out; echo end' > "$T/gen.out"
pid=$!
wait_runtime $pid
sleep 1.5
within 60 "$CR_CHECKPOINT" --kill -f "$T/gen1.ctx" $pid || fail "first generation failed"
wait_gone $pid
"$CR_RESTART" "$T/gen1.ctx" >> "$T/gen.out" 2> "$T/gen1.restart.err" &
r=$!
track $r
i=0
first_child() { cat /proc/$1/task/$1/children 2>/dev/null | awk '{print $1}'; }
# (the root is cr_restart's child, or its init's in a pid namespace; never a child of
# the root whose runtime came up first, nor of the helper that makes the root in place)
ns_init() { [ "$(awk '/^NSpid:/ {print $NF}' /proc/$1/status 2>/dev/null)" = 1 ]; }
until top=$(first_child $r) && [ -n "$top" ] &&
      { root=$top; grep -q "@slurm-cr/$root\." /proc/net/unix ||
        { ns_init $top && root=$(first_child $top) && [ -n "$root" ] &&
          grep -q "@slurm-cr/$root\." /proc/net/unix; }; }; do
    i=$((i + 1)); [ $i -le 600 ] || fail "the first generation did not come back"; sleep 0.05
done
# at once: the members may still be finishing their restart (their runtimes, named
# busy for the first generation's requester in the image, must make this one wait)
within 60 "$CR_CHECKPOINT" --kill -f "$T/gen2.ctx" $root 2> "$T/gen2.ckpt.err" ||
    fail "the restarted tree could not be checkpointed again: $(cat "$T/gen2.ckpt.err")"
wait $r 2>/dev/null
"$CR_INFO" "$T/gen2.ctx" | grep -q "^scope:    tree, [3-9] processes" || fail "the second generation is not a tree"
within 60 "$CR_RESTART" "$T/gen2.ctx" >> "$T/gen.out" 2> "$T/gen2.restart.err" || fail "the second generation did not restart"
for i in $(seq 1 120); do echo $((i*i)); done > "$T/gen.ref"
same "$T/gen.ref" "$T/run.gen/out"
cd "$T"

# 13. a preforking server: a listening socket and a socket pair inherited by two workers
# (every process keeps every end), a client in the parent, in flight at the checkpoint
# (one still waiting to be accepted comes back reset: the client tries again)
cat > "$T/prefork.py" <<'PYEOF'
import os, socket, time
a, b = socket.socketpair()
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(8)
port = l.getsockname()[1]
workers = []
for w in range(2):
    p = os.fork()
    if p == 0:
        while True:
            c, _ = l.accept()
            x = c.recv(100)
            if x == b"stop":
                os._exit(0)
            time.sleep(0.02)
            c.sendall(x.upper())
            c.recv(1)   # the client closes first: no TIME_WAIT on the server's port
            c.close()
            b.sendall(b"+")
    workers.append(p)
for k in range(40):
    while True:   # a connection still in the accept queue at the checkpoint comes back reset
        try:
            c = socket.create_connection(("127.0.0.1", port))
            c.sendall(b"hello %d" % k)
            r = c.recv(100).decode()
            c.close()
            break
        except ConnectionResetError:
            pass
    print(k, r, flush=True)
    time.sleep(0.05)
done = b""
while len(done) < 40:
    done += a.recv(100)
for w in workers:
    socket.create_connection(("127.0.0.1", port)).sendall(b"stop")
for w in workers:
    os.waitpid(w, 0)
print("served", len(done))
PYEOF
run_tree prefork lines:3 "$PY" "$T/prefork.py"
same "$T/prefork.ref" "$T/prefork.out"

# a tree file refuses --restore-pid without the right, starting nothing (the crctl
# module's grant gives a normal user the right: tests/kmod/restore_grant.sh)
if [ "$(id -u)" != 0 ] && [ ! -e /dev/crctl ]; then
    expect_refusal 1 "restore-pid needs root" "$CR_RESTART" --restore-pid "$T/ids.ctx"
fi
pass
