#!/bin/bash
# cr_restart with BLCR's options: the sources -f, -F and -d, the signals (-S, --freeze,
# --abort, --run), --omit-*, --restore-pgid/-sid and their --no- forms, -v (version),
# -?, --relocate with BLCR's escapes, and every signal sent to cr_restart passed on;
# --in-place-of, slurm-cr's own, for a launcher that puts cr_restart in front of a command.
. "$top_srcdir/tests/engine/lib.sh"
cd "$T"
mkdir "a=b"
mkfifo in
setsid "$CR_RUN" "$PROGS/stdin_reader" < in > "a=b/out" 2> run.err &
R=$!
track $R
exec 3> in
echo one >&3
wait_lines "a=b/out" 1
wait_runtime $R
within 60 "$CR_CHECKPOINT" -f r.ctx $R || fail "checkpoint failed"
within 60 "$CR_CHECKPOINT" --kill -d "$T/d" $R || fail "checkpoint --kill -d failed"
exec 3>&-
wait_gone $R
printf 'one\ntwo\n' | "$PROGS/stdin_reader" > ref

# ends as the restored process ends: $1 the expected status, the rest cr_restart's options
restart_ends() {
    local want=$1 rc=0; shift
    printf 'two\n' | within 60 "$CR_RESTART" "$@" > rs.out 2> rs.err || rc=$?
    [ $rc = $want ] || fail "cr_restart $*: status $rc, expected $want: $(cat rs.err)"
}
within 10 "$CR_RESTART" -? | grep -q -- '--no-restore-sid' || fail "cr_restart -? shows no help"
within 10 "$CR_RESTART" -v | grep -q '^cr_restart ' || fail "cr_restart -v (BLCR: the version) says no version"
expect_refusal 22 "unknown option or missing argument: --frobnicate" "$CR_RESTART" --frobnicate r.ctx
expect_refusal 22 "exactly one context file" "$CR_RESTART" -f r.ctx r.ctx
expect_refusal 9 "-F 9: not an open file descriptor" "$CR_RESTART" -F 9

restart_ends 0 -f r.ctx --omit-never --run
same ref "a=b/out"
restart_ends 0 -F 7 --omit-always 7< r.ctx
same ref "a=b/out"
restart_ends 0 -d "$T/d" --omit-maybe
same ref "a=b/out"
# in front of a command it stands in for (Slurm's spank_prepend_task_argv): the command,
# options or not, is neither run nor read; without -- it is refused
restart_ends 0 -f r.ctx --in-place-of -- "$PROGS/stdin_reader" --kill -S 9 r.ctx
same ref "a=b/out"
expect_refusal 22 "in-place-of wants -- before the command" "$CR_RESTART" -f r.ctx --in-place-of "$PROGS/stdin_reader"
# a signal after the restart: -S 15, --abort
restart_ends 143 -S 15 r.ctx
restart_ends 134 --abort r.ctx
# --relocate with an escaped '=': the output file moved from a=b/ to c/
mv "a=b" c
restart_ends 0 --relocate "$T/a\=b=$T/c" r.ctx
same ref c/out
mv c "a=b"

# --freeze: stopped once restored; every signal sent to cr_restart goes on (SIGALRM)
mkfifo in2
"$CR_RESTART" --freeze r.ctx < in2 > rs2.out 2> rs2.err &
RS=$!
track $RS
exec 4> in2
i=0; until [ -n "$(cat /proc/$RS/task/$RS/children 2>/dev/null)" ]; do i=$((i+1)); [ $i -lt 600 ] || fail "no restored process"; sleep 0.05; done
C=$(awk '{print $1}' /proc/$RS/task/$RS/children)
i=0; until [ "$(awk '{print $3}' /proc/$C/stat)" = T ]; do i=$((i+1)); [ $i -lt 600 ] || fail "--freeze: the restored process is not stopped"; sleep 0.05; done
kill -CONT $C
kill -ALRM $RS
rc=0; wait $RS || rc=$?
[ $rc = 142 ] || fail "SIGALRM sent to cr_restart did not end the restored process (status $rc)"
exec 4>&-

# groups and sessions: the reader led its session (setsid); restored alone it leads a
# new one, unless --no-restore-sid (then --no-restore-pgid keeps cr_restart's group too)
sid_of() { awk '{print $6}' /proc/$1/stat; }
pgid_of() { awk '{print $5}' /proc/$1/stat; }
for opts in "" "--no-restore-sid" "--no-restore-sid --no-restore-pgid"; do
    mkfifo in3
    "$CR_RESTART" $opts r.ctx < in3 > rs3.out 2> rs3.err &
    RS=$!
    track $RS
    exec 5> in3
    i=0; until [ -n "$(cat /proc/$RS/task/$RS/children 2>/dev/null)" ]; do i=$((i+1)); [ $i -lt 600 ] || fail "no restored process ($opts)"; sleep 0.05; done
    C=$(awk '{print $1}' /proc/$RS/task/$RS/children)
    wait_runtime $C
    case "$opts" in
    "") [ "$(sid_of $C)" = $C ] || fail "restored alone, the session leader does not lead a session" ;;
    "--no-restore-sid") [ "$(sid_of $C)" = "$(sid_of $RS)" ] && [ "$(pgid_of $C)" = $C ] ||
        fail "--no-restore-sid: sid $(sid_of $C) pgid $(pgid_of $C), expected cr_restart's session and a group of its own" ;;
    *) [ "$(sid_of $C)" = "$(sid_of $RS)" ] && [ "$(pgid_of $C)" = "$(pgid_of $RS)" ] ||
        fail "--no-restore-sid --no-restore-pgid: not in cr_restart's session and group" ;;
    esac
    exec 5>&-
    wait_gone $RS
    rm in3
done
pass
