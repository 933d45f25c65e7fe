# Helpers for the engine tests; sourced by each tests/engine/*.sh.
# Every wait is bounded; on failure the work directory is kept with its logs.
set -u
: "${top_builddir:?run the tests with make check}"
BIN=$top_builddir/util
PROGS=$top_builddir/tests/programs
CR_RUN=$BIN/cr_run
CR_CHECKPOINT=$BIN/cr_checkpoint
CR_RESTART=$BIN/cr_restart
CR_INFO=$BIN/cr_info
export CR_RUN_LIB

T=$(mktemp -d "${TMPDIR:-/tmp}/slurm-cr-test.XXXXXX")
BG_PIDS=
TEST_OK=0

cleanup() {
    local e
    for e in $BG_PIDS; do # only the processes tracked, never a pid reused since
        [ "$(start_time_of "${e%%:*}")" = "${e#*:}" ] && kill -9 "${e%%:*}" 2>/dev/null
    done
    if [ "$TEST_OK" = 1 ]; then
        rm -rf "$T"
    else
        echo "logs and files kept in $T" >&2
        for f in "$T"/*.log "$T"/*.err; do
            [ -f "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }
        done
    fi
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { TEST_OK=1; echo "PASS: ${0##*/}"; exit 0; }
skip() { TEST_OK=1; echo "SKIP: $*"; exit 77; }

# start_time_of PID: the process's start time (field 22 of its stat), which with the
# pid names one process: pids come round again within a run (pid_max is 32768 here)
# and tests run side by side, so a pid alone may by then be another test's process
start_time_of() {
    local st
    read -r st < "/proc/$1/stat" 2>/dev/null || return 1
    set -- ${st##*) }
    echo "${20}"
}

# track PID...: the cleanup kills each PID when the test ends, if it is still the same
# process
track() {
    local p s
    for p; do s=$(start_time_of "$p") && BG_PIDS="$BG_PIDS $p:$s"; done
}

# bg CMD...: start CMD in the background, remember its pid in $! and track it
# (redirections given to bg apply while it runs; a FIFO needs a plain '&' instead)
bg() { "$@" & track $!; }

# wait_lines FILE N [SECONDS]: until FILE has at least N lines
wait_lines() {
    local i=0 limit=$(( ${3:-30} * 20 ))
    while [ "$( { wc -l < "$1"; } 2>/dev/null || echo 0)" -lt "$2" ]; do
        i=$((i + 1)); [ $i -le $limit ] || fail "timed out waiting for $2 lines in $1"
        sleep 0.05
    done
}

# wait_gone PID [SECONDS]: until the process has ended (it may not be our child)
wait_gone() {
    local i=0 limit=$(( ${2:-30} * 20 ))
    while kill -0 "$1" 2>/dev/null && [ "$(awk '{print $3}' /proc/$1/stat 2>/dev/null)" != Z ]; do
        i=$((i + 1)); [ $i -le $limit ] || fail "process $1 still running after ${2:-30}s"
        sleep 0.05
    done
    wait "$1" 2>/dev/null   # reap it quietly if it was ours
    return 0
}

# within SECONDS CMD...: run CMD with a time limit
within() { local s=$1; shift; timeout -k 5 "$s" "$@"; }

# expect_refusal CODE REGEX CMD...: CMD must exit with CODE and say REGEX on stderr
expect_refusal() {
    local code=$1 re=$2 rc=0; shift 2
    within 60 "$@" > "$T/refusal.out" 2> "$T/refusal.err" || rc=$?
    [ "$rc" = "$code" ] || { cat "$T/refusal.err" >&2; fail "'$*' exited $rc, expected $code"; }
    grep -Eq -- "$re" "$T/refusal.err" || { cat "$T/refusal.err" >&2; fail "'$*' did not say /$re/"; }
}

# same FILE1 FILE2: byte-identical, or show the difference
same() { cmp -s "$1" "$2" || { diff "$1" "$2" | head -20 >&2; fail "$1 and $2 differ"; }; }

# wait_runtime PID: until the runtime of PID answers on its control socket
wait_runtime() {
    local i=0
    while ! grep -q "@slurm-cr/$1\." /proc/net/unix 2>/dev/null; do
        i=$((i + 1)); [ $i -le 600 ] || fail "the runtime of process $1 never came up"
        kill -0 "$1" 2>/dev/null || fail "process $1 ended before its runtime came up"
        sleep 0.05
    done
}

# restored_pid CR_RESTART_PID: the restored process (cr_restart's child), once it runs
restored_pid() {
    local i=0 c=
    while :; do
        c=$(cat /proc/$1/task/$1/children 2>/dev/null | awk '{print $1}')
        [ -n "$c" ] && grep -q "@slurm-cr/$c\." /proc/net/unix 2>/dev/null && break
        i=$((i + 1)); [ $i -le 600 ] || fail "cr_restart $1 did not bring a process back"
        sleep 0.05
    done
    echo "$c"
}

# path_pos CTX PATH: the saved offset of the fd open on PATH in a context file
path_pos() { "$CR_INFO" "$1" | awk -v p="$2" '$2 == "file" && $NF == p { for (i = 3; i < NF; i++) if ($i == "pos") print $(i + 1) }' | head -n 1; }

# fd_pos CTX FD: the saved offset of file descriptor FD in a context file
fd_pos() { "$CR_INFO" "$1" | awk -v fd="$2" '$1 == fd && $2 == "file" { for (i = 3; i < NF; i++) if ($i == "pos") print $(i + 1) }'; }

# The shell that runs us may hold pipes the runtime cannot save; programs under test
# start without them.
for fd in $(ls /proc/$$/fd); do
    [ "$fd" -gt 2 ] && [ "$fd" != 255 ] && eval "exec $fd>&-" 2>/dev/null
done
