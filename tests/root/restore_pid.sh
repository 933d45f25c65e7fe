# cr_restart --restore-pid (root): a tree comes back with its exact pids, as the
# whole system sees them; while one of them is taken it refuses with EBUSY and starts
# nothing.  Root restarting a user's tree gives every process the user's identity.
# A process alone restarted by root without options gets its old pid when it is free
# (BLCR's default) and a new one, said on stderr, when it is taken.
. "$top_srcdir/tests/engine/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root (scripts/test runs the tests/root suite as root)"
U=${TEST_USER:-nobody}
id "$U" >/dev/null 2>&1 || U=nobody
uid=$(id -u "$U")
chmod 755 "$T"
mkdir "$T/u" && chown "$U" "$T/u"
cd "$T/u"
script='(sleep 3; exit 4) & c=$!; echo "root $$ child $c"; sleep 1.5; wait $c; echo "child $c exited $?"; echo "root $$"'
# (a copy the user can read: tests/root/subreaper.py)
cp "$top_srcdir/tests/root/subreaper.py" "$T/" || fail "cannot copy subreaper.py"
# (the user's python: root's PATH may lead to one the user cannot run)
setpriv --reuid="$U" --regid="$(id -g "$U")" --clear-groups \
    env PATH=/usr/local/bin:/usr/bin:/bin python3 "$T/subreaper.py" sh -c "exec '$CR_RUN' bash -c '$script' > '$T/u/out' 2> '$T/u/run.err'" &
reaper=$!
track $reaper
wait_lines "$T/u/out" 1
pid=$(sed -n 's/^root \([0-9]*\) child [0-9]*$/\1/p' "$T/u/out")
child=$(sed -n 's/^root [0-9]* child \([0-9]*\)$/\1/p' "$T/u/out")
wait_runtime $pid
[ -n "$child" ] || fail "no child pid in $(cat "$T/u/out")"
within 60 "$CR_CHECKPOINT" -f "$T/keep.ctx" $pid || fail "checkpoint (the tree goes on) failed"
expect_refusal 16 "pid $pid .* is in use; nothing was started" "$CR_RESTART" --restore-pid "$T/keep.ctx"
[ "$(grep -c '^root' "$T/u/out")" = 1 ] || fail "a refused restart started something: $(cat "$T/u/out")"
within 60 "$CR_CHECKPOINT" --kill -f "$T/u.ctx" $pid || fail "checkpoint --kill failed"
wait_gone $reaper
"$CR_RESTART" --restore-pid "$T/u.ctx" >> "$T/u/out" 2> "$T/restart.err" &
r=$!
track $r
i=0
until [ -e /proc/$pid ] && [ "$(awk '{print $3}' /proc/$pid/stat)" != Z ] && grep -q "@slurm-cr/$pid\." /proc/net/unix; do
    i=$((i + 1)); [ $i -le 600 ] || fail "the tree did not come back as pid $pid: $(cat "$T/restart.err")"
    sleep 0.05
done
[ -e /proc/$child ] || fail "the child did not come back as pid $child"
[ "$(awk '/^Uid:/ {print $2}' /proc/$pid/status):$(awk '/^Uid:/ {print $2}' /proc/$child/status)" = "$uid:$uid" ] ||
    fail "the restored tree does not run as $U"
rc=0; wait $r || rc=$?
[ $rc = 0 ] || fail "cr_restart exited $rc: $(cat "$T/restart.err")"
grep -q "^child $child exited 4\$" "$T/u/out" || fail "the root did not reap its child by pid: $(cat "$T/u/out")"
grep -q "^root $pid\$" "$T/u/out" || fail "the root's pid changed: $(cat "$T/u/out")"

# a process alone, restarted without options
setpriv --reuid="$U" --regid="$(id -g "$U")" --clear-groups "$CR_RUN" sleep 600 < /dev/null > /dev/null 2>&1 &
lone=$!
track $lone
wait_runtime $lone
within 60 "$CR_CHECKPOINT" --kill -f "$T/lone.ctx" $lone || fail "checkpoint --kill of a process alone failed"
wait $lone 2>/dev/null
wait_gone $lone
"$CR_RESTART" "$T/lone.ctx" 2> "$T/lone.err" &
r1=$!
track $r1
i=0
until [ -e /proc/$lone ] && grep -q "@slurm-cr/$lone\." /proc/net/unix; do
    i=$((i + 1)); [ $i -le 600 ] || fail "the process alone did not come back as pid $lone: $(cat "$T/lone.err")"
    sleep 0.05
done
[ "$(awk '/^Uid:/ {print $2}' /proc/$lone/status)" = "$uid" ] || fail "the restored process does not run as $U"
[ ! -s "$T/lone.err" ] || fail "cr_restart said: $(cat "$T/lone.err")"
# again while the pid is taken: a new pid, and a line that says so
"$CR_RESTART" "$T/lone.ctx" 2> "$T/lone2.err" &
r2=$!
track $r2
second=$(restored_pid $r2)
[ "$second" != "$lone" ] || fail "two processes with pid $lone"
grep -q "pid $lone is in use: the process gets a new pid" "$T/lone2.err" || fail "nothing said of the new pid: $(cat "$T/lone2.err")"
kill -TERM $r1 $r2 # passed on to the restored processes
rc=0; wait $r1 || rc=$?
[ $rc = $((128 + 15)) ] || fail "cr_restart of the old pid exited $rc, not as its process killed by SIGTERM"
# the old pid is a child of cr_restart's like a new one: BLCR's restart API, whose
# default is CR_RSTRT_RESTORE_PID, hands root's process over with its old pid
[ "$(awk '{print $4}' /proc/$lone/stat 2>/dev/null || echo $r1)" = "$r1" ] ||
    fail "the process with its old pid is not cr_restart's child"
. "$top_srcdir/tests/blcr/lib.sh"
blcr_cc harness harness.c
within 60 "$T/harness" child "$T/api.ref" 40 0 "$T/none.ctx" 0 > /dev/null; api_rc=$?
within 120 "$T/harness" run "$T/api.out" 40 15 "$T/api.ctx" > "$T/api.log" 2>&1 ||
    fail "the BLCR harness as root: $(cat "$T/api.log")"
[ "$(cat "$T/api.log")" = "status $api_rc" ] ||
    fail "the BLCR harness as root (its default flags: the old pid) said '$(cat "$T/api.log")', want 'status $api_rc'"
same "$T/api.ref" "$T/api.out"
pass
