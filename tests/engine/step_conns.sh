#!/bin/bash
# Connections between the tasks of a step, without Slurm: two tcppair tasks (a TCP
# server and client with data in flight both ways) under a stand-in parent named
# slurmstepd, which is how the node agent finds a step's tasks.  cr_agent's
# coordinated checkpoint saves the connection at both ends (stepconn, with what was
# queued to each); a create lets both go on and end as an uninterrupted run; after a
# checkpoint that stops them, cr_restart --step-dir connects the two restored tasks
# again and they end as an uninterrupted run; a task connected to a process outside
# the step is refused, naming it, and goes on (its link to the step's PMIx server, a
# TCP connection to PMIX_SERVER_URI2, is not the outside: saved as such).  Two tasks
# sharing memory that lives only while mapped are listed for the restart.  The stand-in also plays the step's PMI
# server (PMI_FD, as Slurm's PMI-2 plugin): a restored task's link reaches the new
# step's server, told of the client's PMI init made before the checkpoint, which
# answers its finalize; and its PMIx server, which takes a PMIx
# 4 client's handshake and writes what it was told to pmix.LABEL.RANK: a restored
# task's PMIx link is made again with the new step's server, introduced as the
# client of the same rank (a restart in a step of another namespace is refused for a
# client whose PMIx library's name cannot be found: tcppair has none).
. "$top_srcdir/tests/engine/lib.sh"
. "$top_srcdir/tests/engine/step_agent.sh"
P=$PROGS/tcppair
cd "$T"
# slurmstepd LABEL OUT CMD...: runs CMD as its child, its output to OUT, then "exit N"
# there; with PMI_FD, a socket that takes the client's PMI init first, then answers
# each line with "LABEL LINE" (what a step's PMI server would)
PY=$(command -v "${PYTHON3:-python3}") || skip "no python3"
cat > slurmstepd <<PY
#!$PY
import os, re, socket, struct, subprocess, sys, threading
mine, theirs = socket.socketpair()
os.environ["PMI_FD"] = str(theirs.fileno())
pmix = socket.socket()  # a PMIx server: takes connections and a client's handshake
pmix.bind(("127.0.0.1", 0))
pmix.listen(16)
os.environ["PMIX_SERVER_URI2"] = "pmix-server.1;tcp4://127.0.0.1:%d" % pmix.getsockname()[1]
os.environ["PMIX_NAMESPACE"] = os.environ.get("PMIX_NS", "slurm.pmix.%s.0" % os.environ.get("SLURM_JOB_ID"))
os.environ["PMIX_RANK"] = os.environ.get("SLURM_PROCID", "0")
os.environ["PMIX_VERSION"] = "4.2.2"
def serve_pmix():
    # each connection: a 16-byte header (index, tag, body length in the host's order),
    # the body: security module, credential, flag, namespace, rank, version, buffer
    # module and type, data store; answered with status 0 and index 0.  What a
    # connection says is written down; one that says nothing (tcppair's own connect)
    # is kept open as it is.
    while True:
        c, _ = pmix.accept()
        threading.Thread(target=handshake, args=(c,), daemon=True).start()
def take(c, n):
    b = b""
    while len(b) < n:
        got = c.recv(n - len(b))
        if not got:
            raise EOFError
        b += got
    return b
def handshake(c):
    try:
        hdr = take(c, 16)
        index, tag, n = struct.unpack("=iIQ", hdr)
        body = take(c, n)
    except EOFError:
        return
    sec, rest = body.split(b"\0", 1)
    clen = struct.unpack("!I", rest[:4])[0]
    cred, rest = rest[4:4 + clen], rest[4 + clen:]
    flag, rest = rest[0], rest[1:]
    ns, rest = rest.split(b"\0", 1)
    rank, rest = struct.unpack("!I", rest[:4])[0], rest[4:]
    ver, bfrops, rest = rest.split(b"\0", 2)
    bftype, gds, tail = rest[0], rest[1:].split(b"\0", 1)[0], rest[1:].split(b"\0", 1)[1]
    uid, gid = struct.unpack("=II", cred)
    with open("pmix.%s.%s" % (sys.argv[1], os.environ["PMIX_RANK"]), "w") as f:
        f.write("index %d tag %u sec %s uid %d gid %d flag %d ns %s rank %d version %s bfrops %s bftype %d gds %s tail %s\n" % (
            index, tag, sec.decode(), uid, gid, flag, ns.decode(), rank, ver.decode(), bfrops.decode(), bftype, gds.decode(), tail.hex()))
    c.sendall(struct.pack("!II", 0, 0))
    while c.recv(4096):  # the client's link, until it closes
        pass
threading.Thread(target=serve_pmix, daemon=True).start()
out = open(sys.argv[2], "ab")
child = subprocess.Popen(sys.argv[3:], pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
                         stdout=out, stderr=out)
theirs.close()
f = mine.makefile("rwb", buffering=0)
# as Slurm's PMI-2 agent: the link's first line is the client's init, answered with the
# version it asked for; anything else there is an invalid init (rc=1)
first = True
for line in f:
    if first:
        first = False
        m = re.match(rb"cmd=init pmi_version=(\d+) pmi_subversion=(\d+)\n", line)
        f.write(b"cmd=response_to_init rc=0 pmi_version=%s pmi_subversion=%s\n" % m.groups() if m
                else b"cmd=response_to_init rc=1 pmi_version=2 pmi_subversion=0\n")
        continue
    f.write(sys.argv[1].encode() + b" " + line)
code = child.wait()
out.write(b"exit %d\n" % (128 - code if code < 0 else code))
out.flush()  # (the PMIx server's threads may still run at the exit)
PY
chmod 755 slurmstepd
mkdir img1 img2 img3 img4 img5 img6
trap '' PIPE # an agent that gave up reads no "write"
# the tasks of this test, whatever happens (orphans of their stand-in otherwise)
kill_tasks() { for p in $(pgrep -u "$(id -u)" -f "^$P $T/"); do kill -9 $p; done 2>/dev/null; }
trap 'kill_tasks; cleanup' EXIT

# tasks JOB DIR ITERS DELAY N: N tasks of step JOB.0 running tcppair in DIR
tasks() {
    local r
    mkdir -p "$2"
    for r in $(seq 0 $(($5 - 1))); do
        bg env SLURM_JOB_ID=$1 SLURM_STEP_ID=0 SLURMD_NODENAME=local SLURM_PROCID=$r SLURM_STEP_NUM_TASKS=$5 \
            "$T/slurmstepd" step1 "$2.out.$r" "$CR_RUN" "$P" "$T/$2" $3 $4 < /dev/null
    done
}
# task_pid DIR RANK: the pid of that tcppair
task_pid() { pgrep -u "$(id -u)" -f "^$P $T/$1 " | while read -r p; do
    tr '\0' '\n' < /proc/$p/environ 2>/dev/null | grep -qx "SLURM_PROCID=$2" && echo $p; done; }
# ends DIR: until both tasks of DIR wrote their exit status
ends() { wait_lines "$1.out.0" 2 60; wait_lines "$1.out.1" 2 60; }
# same_as_ref DIR
# same_as_ref DIR LABEL: as the reference, the PMI server that answered the finalize LABEL
same_as_ref() {
    for r in 0 1; do
        same ref/rank.$r "$1/rank.$r"
        grep -v '^exit' "$1.out.$r" > "$1.final.$r"
        printf 'pmi: %s finalize rank %d\n' $2 $r | cat ref.out.$r - > ref.final.$r
        same ref.final.$r "$1.final.$r"
    done
}

mkdir ref
for r in 0 1; do SLURM_PROCID=$r within 60 "$P" ref 40 0 > ref.out.$r & done
wait

# create: the tasks go on (each a PMIx client of its step's server as well)
TCPPAIR_PMIX=1 tasks 91 create 40 100 2
wait_lines create/rank.0 12
agent 91 "$T/img1" || fail "the coordinated checkpoint failed: $(cat agent.out agent.err)"
grep -qx "complete 1" agent.out || fail "no complete generation: $(cat agent.out)"
for r in 0 1; do
    "$CR_INFO" img1/gen.1/task.$r.ckpt > info.$r || fail "cr_info task.$r"
    grep -q "stepconn.*TCP connection 127.0.0.1:[0-9]* -> 127.0.0.1:[0-9]* to another task of the step" info.$r ||
        fail "rank $r's connection was not saved as the step's: $(grep -i tcp info.$r)"
done
grep -q "stepconn.* [1-9][0-9]* bytes queued" info.0 || fail "the data in flight to the server was not saved: $(grep stepconn info.0)"
grep -q "pmix .*the link to the step's PMIx server (PMIX_SERVER_URI2=pmix-server.1;tcp4://127.0.0.1:[0-9]*): rank 0 of slurm.pmix.91.0, PMIx 4.2.2 (native, v41, gds hash), its name at ?" info.0 ||
    fail "the link to the PMIx server was not saved as the step's: $(grep -i -E 'pmi|tcp' info.0)"
ends create
same_as_ref create step1

# stopped, then restarted with --step-dir: the two connect again, and to the new
# step's PMIx server
TCPPAIR_PMIX=1 tasks 92 vacate 40 100 2
wait_lines vacate/rank.0 12
agent 92 "$T/img2" --stop || fail "the coordinated checkpoint failed: $(cat agent.out agent.err)"
for r in 0 1; do p=$(task_pid vacate $r); [ -n "$p" ] && kill -9 $p; done
wait_lines vacate.out.1 1 30
mkdir meet
grep -q "pmi .*the link to the step's PMI server (PMI_FD=[0-9]*), PMI 1.1 initialised" <("$CR_INFO" img2/gen.1/task.0.ckpt) ||
    fail "the PMI link was not saved as the step's, initialised: $("$CR_INFO" img2/gen.1/task.0.ckpt | grep -i -E 'pmi|sock')"
# a new step of another namespace: tcppair's PMIx link cannot be made again there
# (no PMIx library in it to tell its new name), refused before it runs
PMIX_NS=slurm.pmix.99.0 within 60 "$T/slurmstepd" step3 refused.log "$CR_RESTART" img2/gen.1/task.0.ckpt
grep -q "the new step's namespace is slurm.pmix.99.0, the checkpointed task's slurm.pmix.92.0, and the checkpoint did not find where the client's PMIx library keeps its name" refused.log &&
    ! grep -qx "exit 0" refused.log || fail "a restart in a step of another namespace was not refused: $(cat refused.log)"
[ ! -e pmix.step3.0 ] || fail "the refused restart introduced itself to the PMIx server: $(cat pmix.step3.0)"
for r in 0 1; do # each restored by a task of a new step, with a PMI server of its own
    PMIX_NS=slurm.pmix.92.0 SLURM_PROCID=$r within 120 "$T/slurmstepd" step2 restart.$r.log "$CR_RESTART" --step-dir="$T/meet" img2/gen.1/task.$r.ckpt &
    eval rpid$r=$!
done
wait $rpid0; wait $rpid1
for r in 0 1; do
    grep -qx "exit 0" restart.$r.log || fail "rank $r did not restart and end: $(cat restart.$r.log)"
    # the handshake of a PMIx 4.2 client, as strace shows Open MPI's rank make it
    grep -qx "index -1 tag 4294967295 sec native uid $(id -u) gid $(id -g) flag 0 ns slurm.pmix.92.0 rank $r version 4.2.2 bfrops v41 bftype 1 gds hash tail 00" pmix.step2.$r ||
        fail "rank $r's PMIx link was not made again with the new step's server as its client: $(cat pmix.step2.$r 2>&1)"
done
for r in 0 1; do sed -i '/^exit 137$/d' vacate.out.$r; echo "exit 0" >> vacate.out.$r; done
same_as_ref vacate step2
# (the barrier's marks too: every task's listeners bound before any connection is made)
[ -z "$(ls -A meet)" ] || fail "files left where the tasks met: $(ls meet)"
expect_refusal 22 "step-dir=relative: want an existing directory" "$CR_RESTART" --step-dir=relative img2/gen.1/task.0.ckpt

# a connection to a process outside the step: refused, named, and the task goes on
tasks 93 outside 1000 100 1
for i in $(seq 1 600); do [ -s outside/port ] && break; sleep 0.05; done
exec 7<>"/dev/tcp/127.0.0.1/$(cat outside/port)" || fail "cannot connect to the task"
printf '%01500d' 0 >&7
wait_lines outside/rank.0 1
agent 93 "$T/img3" && fail "a checkpoint with a connection to the outside succeeded: $(cat agent.out)"
grep -q "^error local 0 107 fd [0-9]* is a TCP connection 127.0.0.1:[0-9]* -> 127.0.0.1:[0-9]* that leads outside the step" agent.out ||
    fail "the refusal does not name rank and connection: $(cat agent.out agent.err)"
kill -0 "$(task_pid outside 0)" 2>/dev/null || fail "the task did not go on"
printf '%01500d' 0 >&7
wait_lines outside/rank.0 2
exec 7>&-

# an answer of the step's PMI server the task has not read: refused, named, and the
# task goes on
TCPPAIR_PMI_UNREAD=1 tasks 96 pmiunread 1000 100 2
wait_lines pmiunread/rank.0 1
agent 96 "$T/img6" && fail "a checkpoint with a PMI answer unread succeeded: $(cat agent.out)"
grep -q "^error local [01] 11 process [0-9]* (tcppair) of the tree: fd [0-9]*, the link to the step's PMI server, has a message in flight ([1-9][0-9]* bytes unread, 0 not read by the server)" agent.out ||
    fail "the refusal does not name the PMI link and what is in flight: $(cat agent.out agent.err)"
n=$(wc -l < pmiunread/rank.0)
wait_lines pmiunread/rank.0 $((n + 1))
for r in 0 1; do p=$(task_pid pmiunread $r); [ -n "$p" ] && kill -9 $p; done

# data the receiver's full buffer cannot take: not drained within 5 s, refused (the
# client floods a server that reads 1000 bytes a second)
TCPPAIR_FLOOD=1 tasks 95 flood 20000 1000 2
wait_lines flood/rank.1 1000
# until the client waits for room in its full send buffer
for i in $(seq 1 600); do
    case $(cat /proc/$(task_pid flood 1)/wchan 2>/dev/null) in wait_woken|sk_stream_wait_memory) break ;; esac
    sleep 0.05
done
case $(cat /proc/$(task_pid flood 1)/wchan 2>/dev/null) in wait_woken|sk_stream_wait_memory) ;; *) fail "the client never filled its buffer" ;; esac
agent 95 "$T/img5" && fail "a checkpoint with data its receiver cannot take succeeded: $(cat agent.out)"
grep -q "^error local 1 11 fd [0-9]* (TCP connection 127.0.0.1:[0-9]* -> 127.0.0.1:[0-9]*): [0-9]* bytes it sent were not taken by the other end within 5 s" agent.out ||
    fail "the refusal does not say what was not drained: $(cat agent.out agent.err)"
for r in 0 1; do p=$(task_pid flood $r); [ -n "$p" ] && kill -9 $p; done

# two tasks sharing a deleted file's memory, its fd open in both: listed for the
# restart (step_shm.sh), and they go on
TCPPAIR_SHARE=1 tasks 94 share 40 100 2
wait_lines share/rank.0 5
agent 94 "$T/img4" || fail "a checkpoint of tasks sharing memory failed: $(cat agent.out agent.err)"
grep -q " 0 1$" img4/gen.1/shm.0 || fail "the memory they share is not listed: $(cat img4/gen.1/shm.0)"
ends share
grep -q "^rank 0 done" share.out.0 && grep -q "^rank 1 done" share.out.1 || fail "the tasks did not go on: $(cat share.out.*)"
pass
