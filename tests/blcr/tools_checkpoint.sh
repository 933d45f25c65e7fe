#!/bin/bash
# cr_checkpoint with BLCR's options, as BLCR-era scripts call it: the scope names
# (--process, --group, --session), --dir, numbered --backup, --abort, --early-stop,
# --sync/--nosync, -t 0, --ptraced-*/--ptracer-* with their errors, -?,
# and a checkpoint of a running cr_restart's pid (what it restored, as with BLCR).
. "$top_srcdir/tests/engine/lib.sh"
cd "$T"
CR_EPTRACED=$(( (2354 + 6) & 255 )); CR_EPTRACER=$(( (2354 + 7) & 255 ))  # blcr_errcodes.h order

# reader: stdin_reader in a session of its own, fed by a FIFO we hold on descriptor $1;
# its pid in $R
start_reader() {
    local fd=$1 name=$2; shift 2
    mkfifo "$name.in"
    setsid "$@" "$PROGS/stdin_reader" < "$name.in" > "$name.out" 2> "$name.err" &
    R=$!
    track $R
    eval "exec $fd> $name.in"
    echo one >&$fd
    wait_lines "$name.out" 1
}

# -? is help, an unknown option is named, conflicting destinations refused
within 10 "$CR_CHECKPOINT" -? | grep -q -- '--ptraced-skip' || fail "cr_checkpoint -? does not show the help"
expect_refusal 22 "unknown option or missing argument: --frobnicate" "$CR_CHECKPOINT" --frobnicate 1
expect_refusal 22 "conflicting destinations" "$CR_CHECKPOINT" -f a -d b 1

start_reader 3 a "$CR_RUN"
wait_runtime $R
# scope names, --dir (made if need be), -t 0 (no limit), --nosync
for scope in --process --group --session --tree; do
    within 60 "$CR_CHECKPOINT" $scope -t 0 --nosync -d "$T/dir$scope" $R 2> ck.err || fail "$scope -d: $(cat ck.err)"
    "$CR_INFO" -q "$T/dir$scope/context.$R" || fail "$scope: no valid dir$scope/context.$R"
done
[ "$(stat -c %a "$T/dir--tree")" = 700 ] || fail "--dir made the directory with mode $(stat -c %a "$T/dir--tree")"
# numbered backups, BLCR's names
within 60 "$CR_CHECKPOINT" -f c.ctx $R && within 60 "$CR_CHECKPOINT" --backup -f c.ctx $R &&
    within 60 "$CR_CHECKPOINT" --backup -f c.ctx $R || fail "--backup failed"
[ -f c.ctx.~1~ ] && [ -f c.ctx.~2~ ] && [ ! -e c.ctx.~3~ ] || fail "--backup did not keep c.ctx.~1~ and c.ctx.~2~: $(ls)"
# --early-stop: stopped without running on; the file is good
within 60 "$CR_CHECKPOINT" --early-stop -f e.ctx $R || fail "--early-stop failed"
[ "$(awk '{print $3}' /proc/$R/stat)" = T ] || fail "--early-stop did not leave the process stopped"
kill -CONT $R
# --abort: SIGABRT once written
within 60 "$CR_CHECKPOINT" --abort -f ab.ctx $R || fail "--abort failed"
rc=0; wait $R || rc=$?
[ $rc = 134 ] || fail "--abort: the process ended with status $rc, not SIGABRT's 134"
exec 3>&-
"$CR_INFO" -q ab.ctx || fail "--abort wrote an invalid file"

# a checkpoint of cr_restart's pid is one of the process it restored (e.ctx: after
# line one; it writes on to a.out at its offset)
mkfifo r.in
"$CR_RESTART" e.ctx < r.in > r.out 2> r.err &
RS=$!
track $RS
exec 4> r.in
echo two >&4
wait_lines a.out 2
within 60 "$CR_CHECKPOINT" --kill -f again.ctx $RS 2> again.err || fail "cr_checkpoint of cr_restart's pid $RS failed: $(cat again.err)"
exec 4>&-
wait_gone $RS
printf 'three\n' | within 60 "$CR_RESTART" again.ctx > /dev/null 2> again.rs.err || fail "the image taken through cr_restart's pid does not restart: $(cat again.rs.err)"
printf 'one\ntwo\nthree\n' | "$PROGS/stdin_reader" > ref.all
same ref.all a.out

# ptraced (default: CR_EPTRACED; skip: ESRCH; allow: it works) and a ptracer
start_reader 5 t "$PROGS/tracer" "$CR_RUN"
TR=$R
TP=$(awk '{print $1}' /proc/$TR/task/$TR/children)
wait_runtime $TP
expect_refusal $CR_EPTRACED "process $TP is traced by process $TR" "$CR_CHECKPOINT" -f t1.ctx $TP
expect_refusal 3 "--ptraced-skip leaves it out" "$CR_CHECKPOINT" --ptraced-skip -f t2.ctx $TP
within 60 "$CR_CHECKPOINT" --ptraced-allow -f t3.ctx $TP 2> t3.err || fail "--ptraced-allow failed: $(cat t3.err)"
"$CR_INFO" -q t3.ctx || fail "--ptraced-allow wrote an invalid file"
[ ! -e t1.ctx ] && [ ! -e t2.ctx ] || fail "a refused checkpoint left a file"
echo two >&5
wait_lines t.out 2
exec 5>&-
wait_gone $TR
[ "$(tail -n 1 t.out)" = "eof after 2 lines" ] || fail "the traced program was harmed: $(cat t.out)"
# a tracer under cr_run: CR_EPTRACER; --ptracer-skip leaves it and what it traces out
start_reader 6 u "$CR_RUN" "$PROGS/tracer" "$CR_RUN"
wait_runtime $R
expect_refusal $CR_EPTRACER "process $R traces process" "$CR_CHECKPOINT" -f u1.ctx $R
expect_refusal 3 "traces process [0-9]+ and --ptracer-skip leaves it out" "$CR_CHECKPOINT" --ptracer-skip -f u2.ctx $R
exec 6>&-
wait_gone $R
pass
