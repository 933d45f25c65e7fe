# The fds a checkpoint refuses, each with what it is and the way out, the program
# going on: a lease another process is breaking, a file of another process's /proc or of one thread's, a pidfd of
# a process outside the checkpoint, an inotify watch whose path is not found (its
# events not read yet would be kept: nothing names the watch), a message queue whose
# notification was registered by a call the runtime did not see (a raw system call).
. "$top_srcdir/tests/engine/lib.sh"
PY=${PYTHON3:-python3}

# refused NAME 'PYTHON SETUP' REGEX [EXIT]: the checkpoint of a program that did SETUP
# says REGEX and exits EXIT (95, ENOTSUP, unless told)
refused() {
    local name=$1 setup=$2 re=$3 code=${4:-95} pid
    bg "$CR_RUN" "$PY" -c "import fcntl, os, threading, time
$setup
print('ready', flush=True)
time.sleep(60)" > "$T/$name.out"
    pid=$!
    wait_runtime $pid
    wait_lines "$T/$name.out" 1
    expect_refusal "$code" "$re" "$CR_CHECKPOINT" -f "$T/$name.ctx" $pid
    kill -0 $pid || fail "$name: the refused checkpoint ended the program"
    kill $pid
}

echo data > "$T/leased"
refused lease "import signal
signal.signal(signal.SIGIO, signal.SIG_IGN)
fd = os.open('$T/leased', os.O_RDONLY)
fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_RDLCK)
c = os.fork()
if c == 0:
    try:
        os.open('$T/leased', os.O_WRONLY | os.O_NONBLOCK)
    except BlockingIOError:
        pass
    os._exit(0)
os.waitpid(c, 0)" "holds a lease on $T/leased that another process is breaking: try again once the program has given it up" 11
refused other_proc "fd = os.open('/proc/1/stat', os.O_RDONLY)" \
    "is /proc/1/stat, a file of another process's /proc: .*close it"
refused thread_proc "fds = []
t = threading.Thread(target=lambda: fds.append(os.open('/proc/thread-self/stat', os.O_RDONLY)))
t.start()
t.join()" "is /proc/[0-9]+/task/[0-9]+/stat, a file of one thread's /proc"
refused outside_pidfd "fd = os.pidfd_open(os.getppid())" \
    "is a pidfd of process [0-9]+, which is outside the checkpoint .*close it"
mkdir "$T/watched"
refused inotify_pending "import ctypes
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init1(0)
assert libc.inotify_add_watch(fd, b'$T/watched', 0x100) == 1
open('$T/watched/new', 'w').close()" "inotify watch 1 is on inode [0-9]+ of device [0-9]+:[0-9]+, whose path was not found .*remove the watch before the checkpoint"
refused mq_notify "import ctypes
libc = ctypes.CDLL(None, use_errno=True)
name = b'/slurm-cr-notify-%d' % os.getpid()
q = libc.mq_open(name, os.O_RDWR | os.O_CREAT, 0o600, None)
libc.mq_unlink(name)
ev = ctypes.create_string_buffer(64)
ev[12] = 1  # sigev_notify: SIGEV_NONE
assert q >= 0 and libc.syscall(244, q, ev) == 0  # SYS_mq_notify: not through mq_notify()" \
    "a notification is registered on the POSIX message queue /slurm-cr-notify-[0-9]+ \\(mq_notify\\) through a call the runtime did not see"
pass
