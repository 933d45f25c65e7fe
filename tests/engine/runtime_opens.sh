# The runtime opens none of the process's /proc files while the program runs on
# (issue 15): an fd the runtime holds for a moment is one of the program's to a
# checkpoint that comes then.  Naming the manager thread with pthread_setname_np()
# from the thread that started it opened /proc/self/task/TID/comm, and the soak saw
# "fd N is /proc/N/task/N/comm, a file of one thread's /proc" fail checkpoints of a
# forking shell.  Traced: a shell under cr_run that starts programs (each with a
# runtime of its own), and a program started directly.
. "$top_srcdir/tests/engine/lib.sh"
command -v strace > /dev/null || skip "strace is not installed"
within 120 strace -f -qq -e trace=open,openat -o "$T/trace" "$CR_RUN" bash -c 'for i in 1 2 3; do /bin/true; done; /bin/true' \
    > "$T/out" 2> "$T/err" || fail "the traced run failed: $(head -5 "$T/err")"
grep -q 'openat(' "$T/trace" || fail "strace saw no open at all: $(head -3 "$T/trace")"
if grep -E '/task/[0-9]+/comm' "$T/trace" >&2; then
    fail "the runtime opened a thread's comm file while the program ran"
fi
pass
