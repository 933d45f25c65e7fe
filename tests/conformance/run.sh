#!/bin/bash
# The conformance suite: every test program of tests/conformance/ run three ways,
#   plain-runtime  under cr_run, no checkpoint: READY, then SIGUSR2;
#   restart        under cr_run, after READY cr_checkpoint --kill, cr_restart, then
#                  SIGUSR2 to the restored process;
#   cow            under cr_run, after READY cr_checkpoint (the process goes on),
#                  then SIGUSR2 to the original process;
#   ptrace         without cr_run, after READY cr_checkpoint --backend=kmod --kill,
#                  cr_restart, then SIGUSR2 to the restored process;
# each must print PASS and exit 0.  Failures listed in KNOWN (NAME MODE reason) are
# reported KNOWN and do not fail the suite; a KNOWN one that passes says FIXED.  A line
# "NAME MODE unless:CONDITION reason" applies only where CONDITION (below) does not hold.
#
# usage: run.sh [-j JOBS] [-m MODE[,MODE]] [-k DIR] [NAME...]
#   e.g. tests/conformance/run.sh -m restart umask   (after make check built them;
#   top_builddir defaults to the tree run.sh sits in; JOBS runs at once, default 2)
# One line per test and mode, then "N passed, N failed, N known"; exit 1 if any
# failed.  The directories of failed, known and fixed runs (out, err, the context file,
# the tools' messages) are kept under DIR (default: a new directory in $TMPDIR).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
: "${top_builddir:=$(cd "$HERE/../.." && pwd)}"
: "${CR_RUN_LIB:=$top_builddir/libcr/.libs/libcr_run.so}"
export CR_RUN_LIB
BIN=$top_builddir/util
CR_RUN=$BIN/cr_run
CR_CHECKPOINT=$BIN/cr_checkpoint
CR_RESTART=$BIN/cr_restart
PROGDIR=$top_builddir/tests/conformance
KNOWN=$HERE/KNOWN

JOBS=${CONF_JOBS:-2}
MODES="plain-runtime restart cow ptrace"
KEEP=
while getopts j:m:k: o; do
    case $o in
    j) JOBS=$OPTARG ;;
    m) MODES=$(echo "$OPTARG" | tr , ' ') ;;
    k) KEEP=$OPTARG ;;
    *) sed -n '2,18s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
if [ $# -gt 0 ]; then
    NAMES="$*"
else
    NAMES=$(cd "$HERE" && ls *.c | sed 's/\.c$//' | sort)
fi
for m in $MODES; do
    case $m in plain-runtime|restart|cow|ptrace) ;; *) echo "run.sh: no mode '$m'" >&2; exit 2 ;; esac
done
# a KNOWN line must name a test and a mode, and a condition it names must be one of ours
while read -r kn km kc _; do
    case $kn in ''|'#'*) continue ;; esac
    [ -f "$HERE/$kn.c" ] && case $km in plain-runtime|restart|cow|ptrace) true ;; *) false ;; esac ||
        echo "run.sh: KNOWN names no test and mode: '$kn $km'" >&2
    case $kc in unless:*) [ "$kc" = unless:restore-cap ] || echo "run.sh: KNOWN: no condition '${kc#unless:}' ($kn $km)" >&2 ;; esac
done < "$KNOWN"

# The conditions that hold here, for KNOWN lines that apply only where one does not
# ("NAME MODE unless:CONDITION reason"; where it holds the run must pass):
#   restore-cap  cr_restart may do what only CAP_CHECKPOINT_RESTORE allows (give a
#                process alone its old pid when it is free, name the program's
#                executable in /proc/PID/exe): as root, holding that
#                capability (or CAP_SYS_ADMIN), or as a normal user through the crctl
#                module's grant (loaded, allow_restore_grant on, restore_grant_gid -1 or
#                one of our groups; doc/kmod-design.md section 4), which cr_restart asks
#                for a process alone whose pid is free
HELD=" "
restore_cap() {
    local eff gid
    [ "$(id -u)" = 0 ] && return 0
    eff=$(awk '/^CapEff:/ {print $2}' /proc/self/status)
    (( (0x${eff:-0} >> 40) & 1 || (0x${eff:-0} >> 21) & 1 )) && return 0
    [ -e /dev/crctl ] && [ "$(cat /sys/module/crctl/parameters/allow_restore_grant 2>/dev/null)" = Y ] || return 1
    gid=$(cat /sys/module/crctl/parameters/restore_grant_gid 2>/dev/null)
    [ "$gid" = -1 ] || [[ " $(id -G) " == *" $gid "* ]]
}
restore_cap && HELD+="restore-cap "
[ -x "$CR_RUN" ] && [ -f "$CR_RUN_LIB" ] || { echo "run.sh: build first ($CR_RUN, $CR_RUN_LIB)" >&2; exit 2; }
if [ -n "$KEEP" ]; then
    mkdir -p "$KEEP" || exit 2
    W=$(mktemp -d "$KEEP/run.XXXXXX")
else
    W=$(mktemp -d "${TMPDIR:-/tmp}/slurm-cr-conformance.XXXXXX")
fi

# The shell that runs us may hold pipes the runtime cannot save: tests start without.
for fd in $(ls /proc/$$/fd); do
    [ "$fd" -gt 2 ] && [ "$fd" != 255 ] && eval "exec $fd>&-" 2>/dev/null
done

# ---- bounded waits; each returns 1 with the reason in $why ----
# Each is bounded in real time (bash's SECONDS, no fork): a count of polls would
# stretch with the load (each poll forks), which made a "60 s" wait last 10 minutes in
# a loaded qemu guest.  The bounds are generous (a loaded software-emulated guest is
# slow); CF_WAIT_SECONDS (conf.h) is longer than all of them before SIGUSR2 together.
why=
STEP=${CONF_STEP_SECONDS:-120}

# has_runtime PID: the runtime of PID answers on its control socket
has_runtime() { grep -q "@slurm-cr/$1\." /proc/net/unix 2>/dev/null; }

alive() { kill -0 "$1" 2>/dev/null && [ "$(awk '{print $3}' /proc/$1/stat 2>/dev/null)" != Z ]; }

# children PID: the children of every thread of PID
children() { cat /proc/$1/task/*/children 2>/dev/null; }

# group_of PID: its process group, in tpg (a restored program's, which it keeps when
# it ends: a child it left behind, orphaned, is no longer found under cr_restart), and
# the start time of the group's leader if it has one (tpg_leader);
# end_group: that group killed, unless it is ours or its number is another's by now.
# (A group id is not given to a new process while the group lives: a leader with
# another start time means the group is gone and the number reused, maybe by a test
# running beside this one.)
tpg= tpg_leader=
leader_start() { local st; read -r st < "/proc/$1/stat" 2>/dev/null || { echo none; return; }; set -- ${st##*) }; echo "${20}"; }
group_of() { tpg=$(awk '{print $5}' "/proc/$1/stat" 2>/dev/null); tpg_leader=$(leader_start "$tpg"); }
end_group() {
    local now
    if [ -n "$tpg" ] && [ "$tpg" != "$(awk '{print $5}' /proc/$$/stat)" ]; then
        now=$(leader_start "$tpg")
        [ "$now" = none ] || [ "$now" = "$tpg_leader" ] && kill -KILL -- -"$tpg" 2>/dev/null
    fi
    tpg=
}
# kill_tree PID: PID and every descendant, with SIGKILL
kill_tree() {
    local c
    kill -STOP "$1" 2>/dev/null
    for c in $(children "$1"); do kill_tree "$c"; done
    kill -KILL "$1" 2>/dev/null
}

# wait_ready PID: its runtime is up (but in ptrace mode) and it said READY
wait_ready() {
    local end=$((SECONDS + STEP))
    until { [ "$mode" = ptrace ] || has_runtime "$1"; } && grep -qx READY out; do
        alive "$1" || { why="ended before READY: $(tail -n 1 err 2>/dev/null) $(grep -m1 FAIL out 2>/dev/null)"; return 1; }
        [ $SECONDS -lt $end ] || { why="no READY within $STEP s"; return 1; }
        sleep 0.05
    done
}

# wait_end PID SECONDS: until our child PID ends; its exit status in $rc
wait_end() {
    local end=$((SECONDS + $2))
    while alive "$1"; do
        [ $SECONDS -lt $end ] || { kill_tree "$1"; wait "$1" 2>/dev/null; why="still running $2 s after SIGUSR2"; rc=124; return 1; }
        sleep 0.02
    done
    rc=0; wait "$1" || rc=$?
}

# restored R: the restored process under cr_restart R (its child; a tree restored in
# a pid namespace of its own: the child of that namespace's pid 1), once its runtime is up
# (a child that is not a namespace's pid 1 is that process, or the helper that makes it:
# never one of its children, whose runtimes may come up first)
restored() {
    local end=$((SECONDS + STEP)) c g
    while :; do
        for c in $(children "$1"); do
            has_runtime "$c" && { target=$c; return 0; }
            [ "$(awk '/^NSpid:/ {print $NF}' /proc/$c/status 2>/dev/null)" = 1 ] || continue
            for g in $(children "$c"); do
                has_runtime "$g" && { target=$g; return 0; }
            done
        done
        alive "$1" || { why="cr_restart ended: $(tail -n 1 restart.err 2>/dev/null)"; return 1; }
        [ $SECONDS -lt $end ] || { why="no restored process within $STEP s"; return 1; }
        sleep 0.05
    done
}

# restored_plain R COMM: the restored process under cr_restart R that has no runtime,
# once the restorer gave it its name back: the child of R named COMM (the name the
# program had at the checkpoint), or a tree's root, the child of the pid namespace's
# pid 1 (R's child).  By its own name, not by any name but cr_restart's: R's other
# children, the --run-on-success hook's shell for one, are not it (a SIGUSR2 sent to
# the hook's shell was lost, and the program waited for it in vain)
restored_plain() {
    local end=$((SECONDS + STEP)) c g comm=$2
    # (no name: the program was gone at the checkpoint; a vanishing child reads as "")
    [ -n "$comm" ] || { why="the program's name could not be read before the checkpoint"; return 1; }
    while :; do
        for c in $(children "$1"); do
            [ "$(cat /proc/$c/comm 2>/dev/null)" = "$comm" ] && { target=$c; return 0; }
            for g in $(children "$c"); do
                [ "$(cat /proc/$g/comm 2>/dev/null)" = "$comm" ] && { target=$g; return 0; }
            done
        done
        alive "$1" || { why="cr_restart ended: $(tail -n 1 restart.err 2>/dev/null)"; return 1; }
        [ $SECONDS -lt $end ] || { why="no restored process named $comm within $STEP s"; return 1; }
        sleep 0.05
    done
}

# restored_said CR_RESTART_PID FLAG: cr_restart's --run-on-success hook made FLAG
restored_said() {
    local end=$((SECONDS + STEP))
    until [ -e "$2" ]; do
        alive "$1" || { why="cr_restart ended: $(tail -n 1 restart.err 2>/dev/null)"; return 1; }
        [ $SECONDS -lt $end ] || { why="cr_restart did not say the process was restored within $STEP s"; return 1; }
        sleep 0.05
    done
}

# send_usr2 PID: the signal that ends the wait of a test, and when it went (the
# program waits at most CF_WAIT_SECONDS from READY: a failure says how long it took)
send_usr2() {
    usr2_after=$(( $(date +%s) - ready_at ))
    kill -USR2 "$1"
}

# the verdict of a run that got to the end: PASS, or the test's FAIL line, or what
# happened instead
verdict() {
    if [ "$rc" = 0 ] && [ "$(tail -n 1 out)" = PASS ]; then
        return 0
    fi
    local f
    f=$(grep -m1 '^FAIL' out)
    if [ -n "$f" ]; then
        why="${f#FAIL: }"
    elif [ "$rc" -gt 128 ]; then
        why="killed by signal $((rc - 128)) ($(kill -l $((rc - 128)) 2>/dev/null)), no verdict"
    else
        why="exit $rc, no verdict: $(tail -n 1 err 2>/dev/null)"
    fi
    [ "$rc" = 0 ] && [ -z "$f" ] && why="exit 0 but no PASS line (last: $(tail -n 1 out))"
    return 1
}

# one NAME MODE: run it in its own directory; the outcome in result, its line on stdout
one() {
    local name=$1 mode=$2 d="$W/$1.$2" pid r rc=0 target ready_at= usr2_after=
    mkdir -p "$d" && cd "$d" || return
    exec 2> runner.err   # the shell's own notes (a job killed, ...)
    set -m   # every program in a process group of its own: what it leaves is killed with it
    why=
    if [ ! -x "$PROGDIR/$name" ]; then
        why="$PROGDIR/$name is not built"
    else
        if [ "$mode" = ptrace ]; then
            "$PROGDIR/$name" < /dev/null > out 2> err &
        else
            "$CR_RUN" "$PROGDIR/$name" < /dev/null > out 2> err &
        fi
        pid=$!
        if wait_ready $pid; then
            ready_at=$(date +%s)
            case $mode in
            plain-runtime)
                send_usr2 $pid
                wait_end $pid 60 && verdict
                ;;
            cow)
                if timeout -k 5 60 "$CR_CHECKPOINT" -f "$d/T.ctx" $pid 2> ckpt.err; then
                    send_usr2 $pid
                    wait_end $pid 60 && verdict
                else
                    why="cr_checkpoint failed: $(tail -n 1 ckpt.err)"
                fi
                ;;
            restart)
                if timeout -k 5 60 "$CR_CHECKPOINT" --kill -f "$d/T.ctx" $pid 2> ckpt.err; then
                    wait_end $pid 30 && [ $rc -ge 128 ] ||
                        why="the checkpointed process did not end as killed (rc $rc)"
                    if [ -z "$why" ]; then
                        "$CR_RESTART" "$d/T.ctx" < /dev/null > restart.out 2> restart.err &
                        r=$!
                        if restored $r; then
                            group_of $target
                            send_usr2 $target
                            wait_end $r 60 && verdict
                        fi
                        kill_tree $r; wait $r 2>/dev/null
                        end_group
                    fi
                else
                    why="cr_checkpoint --kill failed: $(tail -n 1 ckpt.err)"
                fi
                ;;
            ptrace)
                local comm
                comm=$(cat /proc/$pid/comm 2>/dev/null)
                if timeout -k 5 60 "$CR_CHECKPOINT" --backend=kmod --kill -f "$d/T.ctx" $pid 2> ckpt.err; then
                    wait_end $pid 30 && [ $rc -ge 128 ] ||
                        why="the checkpointed process did not end as killed (rc $rc)"
                    if [ -z "$why" ]; then
                        # no runtime to answer once it is restored: cr_restart says so
                        # once it has put back what it does from outside (attributes,
                        # pending signals), with its --run-on-success hook
                        "$CR_RESTART" --run-on-success="touch '$d/restored'" "$d/T.ctx" \
                            < /dev/null > restart.out 2> restart.err &
                        r=$!
                        if restored_said $r "$d/restored" && restored_plain $r "$comm"; then
                            group_of $target
                            send_usr2 $target
                            wait_end $r 60 && verdict
                        fi
                        kill_tree $r; wait $r 2>/dev/null
                        end_group
                    fi
                else
                    why="cr_checkpoint --backend=kmod failed: $(tail -n 1 ckpt.err)"
                fi
                ;;
            esac
        fi
        kill_tree $pid   # first: once it is gone, its children are no longer found as its
        kill -KILL -- -$pid 2>/dev/null   # its group: children it left behind
        wait $pid 2>/dev/null
    fi
    local known status
    known=$(awk -v n="$name" -v m="$mode" -v held="$HELD" '$1 == n && $2 == m {
                if ($3 ~ /^unless:/) { if (index(held, " " substr($3, 8) " ")) next; $3 = "" }
                $1 = $2 = ""; sub(/^ +/, ""); print; exit }' "$KNOWN" 2>/dev/null)
    if [ -z "$why" ]; then
        if [ -n "$known" ]; then status=FIXED; else status=PASS; fi
        line="$status conformance/$name $mode"
        [ $status = FIXED ] && line="$line (listed in KNOWN: $known; remove the line)"
    elif [ -n "$known" ]; then
        status=KNOWN
        line="KNOWN conformance/$name $mode: $why"
    else
        status=FAIL
        line="FAIL conformance/$name $mode: $why"
        [ -z "$usr2_after" ] || line="$line (SIGUSR2 sent $usr2_after s after READY)"
    fi
    echo "$line" > "$W/.results/$name.$mode.line"
    [ -z "$usr2_after" ] || echo "$usr2_after" > "$W/.results/$name.$mode.usr2"
    echo "$status" > "$W/.results/$name.$mode"
    cd "$W"
    # (a FIXED run's too: what made it pass where KNOWN says it cannot)
    [ $status != PASS ] || rm -rf "$d"
}

mkdir -p "$W/.results"
START=$(date +%s)
# the lines come in the order of the runs, whichever ends first
ORDER=()
for name in $NAMES; do for mode in $MODES; do ORDER+=("$name.$mode"); done; done
shown=0
show_done() {
    while [ $shown -lt ${#ORDER[@]} ] && [ -f "$W/.results/${ORDER[$shown]}.line" ]; do
        cat "$W/.results/${ORDER[$shown]}.line"
        shown=$((shown + 1))
    done
}
running=0
for run in "${ORDER[@]}"; do
    if [ $running -ge "$JOBS" ]; then
        wait -n
        running=$((running - 1))
        show_done
    fi
    ( one "${run%.*}" "${run##*.}" ) &
    running=$((running + 1))
done
wait
show_done
for run in "${ORDER[@]:$shown}"; do   # after a run that left no result
    if [ -f "$W/.results/$run.line" ]; then
        cat "$W/.results/$run.line"
    else
        echo "FAIL conformance/${run%.*} ${run##*.}: the runner lost it (no result)"
    fi
done

passed=0 failed=0 known=0 fixed=0
for name in $NAMES; do
    for mode in $MODES; do
        case $(cat "$W/.results/$name.$mode" 2>/dev/null || echo LOST) in
        PASS) passed=$((passed + 1)) ;;
        FIXED) passed=$((passed + 1)); fixed=$((fixed + 1)) ;;
        KNOWN) known=$((known + 1)) ;;
        *) failed=$((failed + 1)) ;;
        esac
    done
done
[ $fixed = 0 ] || echo "$fixed listed in KNOWN now pass (FIXED): trim tests/conformance/KNOWN"
# (how close the slowest run came to the programs' own limit, CF_WAIT_SECONDS in conf.h)
slowest=$(cd "$W/.results" && grep -H . -- *.usr2 2>/dev/null | sort -t: -k2 -n | tail -n 1)
echo "$(echo $NAMES | wc -w) tests, modes: $MODES; $(( $(date +%s) - START )) s${slowest:+; the longest from READY to SIGUSR2: ${slowest##*:} s (${slowest%.usr2:*})}"
echo "$passed passed, $failed failed, $known known"
if [ "$failed" = 0 ] && [ "$known" = 0 ] && [ "$fixed" = 0 ]; then
    rm -rf "$W"
else
    echo "logs of the failed, known and fixed runs kept in $W"
fi
[ "$failed" = 0 ]
