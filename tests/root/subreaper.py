# subreaper.py COMMAND [ARGS...]: runs COMMAND as a child subreaper's child and reaps
# every orphan of its tree until none is left.  The root tests kill a tree at its
# checkpoint and restart it with the same pids: its orphans must not stay zombies
# holding those pids (pid 1 of some containers does not reap them).
import ctypes, os, sys
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)   # PR_SET_CHILD_SUBREAPER
if os.fork() == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
try:
    while True:
        os.wait()
except ChildProcessError:
    pass
