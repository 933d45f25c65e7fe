# The ptrace backend and other users: a user cannot checkpoint another user's process
# through ptrace (the kernel refuses the seize: EPERM, said as such, the process
# untouched); root can, and the restarted process is its owner's again, with its old
# pid (--restore-pid), as is a tree of processes, each with its pid and its parent.
. "$top_srcdir/tests/engine/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root (scripts/test runs the tests/root suite as root)"
U=${TEST_USER:-nobody}
id "$U" >/dev/null 2>&1 || U=nobody
O=crother
id "$O" >/dev/null 2>&1 || O=nobody
[ "$O" != "$U" ] || skip "needs two users (crother and TEST_USER)"
ouid=$(id -u "$O")
chmod 755 "$T"
mkdir "$T/o" && chown "$O" "$T/o"
within 60 "$PROGS/ptrace_work" 300 > "$T/ref"
cd "$T/o"
setpriv --reuid="$O" --regid="$(id -g "$O")" --clear-groups \
    sh -c "exec '$PROGS/ptrace_work' 300 > '$T/o/out' 2> '$T/o/run.err'" &
pid=$!
track $pid
wait_lines "$T/o/out" 20
expect_refusal 1 "process $pid belongs to uid $ouid" setpriv --reuid="$U" --regid="$(id -g "$U")" \
    --clear-groups "$CR_CHECKPOINT" --backend=kmod -p -f /tmp/never-written.$$ $pid
n=$(wc -l < "$T/o/out"); wait_lines "$T/o/out" $((n + 5)) 30
grep -q 'TracerPid:.0$' /proc/$pid/status || fail "the refused checkpoint left the process traced"
within 60 "$CR_CHECKPOINT" --backend=kmod --kill -p -f "$T/o.ctx" $pid || fail "root could not checkpoint a process of $O through ptrace"
wait_gone $pid
truncate -s "$(fd_pos "$T/o.ctx" 1)" "$T/o/out"
# root's default: the old pid (BLCR's), on the path of a process alone, which
# completes a ptrace image from outside
"$CR_RESTART" "$T/o.ctx" 2> "$T/restart.err" &
r=$!
track $r
# (cr_restart's first child may be the short-lived one that makes it with its pid)
i=0; until [ "$(awk '{print $4}' /proc/$pid/stat 2>/dev/null)" = "$r" ]; do
    kill -0 $r 2>/dev/null || fail "cr_restart ended: $(cat "$T/restart.err")"
    i=$((i + 1)); [ $i -le 600 ] || fail "cr_restart did not bring the process back as its old pid $pid"
    sleep 0.05; done
c=$pid
ruid=$(awk '/^Uid:/ {print $2 ":" $3 ":" $4}' /proc/$c/status 2>/dev/null)
[ -z "$ruid" ] || [ "$ruid" = "$ouid:$ouid:$ouid" ] || fail "the restored process runs as $ruid, not as $O"
wait $r || fail "cr_restart failed: $(cat "$T/restart.err")"
same "$T/ref" "$T/o/out"

# a tree of that user's, the same way: every process with its old pid, its parent, its
# pipe
within 60 sh -c "'$PROGS/ptrace_work' 300 | cat" > "$T/tref"
setpriv --reuid="$O" --regid="$(id -g "$O")" --clear-groups \
    sh -c "exec < /dev/null > /dev/null 2> '$T/o/trun.err'; '$PROGS/ptrace_work' 300 | cat > '$T/o/tout'" &
tp=$!
track $tp
wait_lines "$T/o/tout" 20
kids=$(cat /proc/$tp/task/$tp/children)
within 60 "$CR_CHECKPOINT" --backend=kmod --kill -f "$T/t.ctx" $tp || fail "root could not checkpoint a tree of $O through ptrace"
wait_gone $tp
for k in $kids; do # (killed, and reaped: a zombie still holds its pid)
    i=0; while [ -e /proc/$k ]; do
        i=$((i + 1)); [ $i -le 600 ] || fail "process $k was not reaped"; sleep 0.05; done
done
"$CR_INFO" "$T/t.ctx" | grep -q "^scope: *tree, 3 processes" || fail "the file is not the tree of 3 processes"
truncate -s "$(path_pos "$T/t.ctx" "$T/o/tout")" "$T/o/tout"
"$CR_RESTART" --restore-pid "$T/t.ctx" 2> "$T/trestart.err" &
r=$!
track $r
for k in $kids; do
    i=0; until [ "$(awk '{print $4}' /proc/$k/stat 2>/dev/null)" = "$tp" ]; do
        kill -0 $r 2>/dev/null || fail "cr_restart --restore-pid of the tree ended: $(cat "$T/trestart.err")"
        i=$((i + 1)); [ $i -le 600 ] || fail "process $k did not come back as a child of $tp"; sleep 0.05; done
done
wait $r || fail "cr_restart of the tree failed: $(cat "$T/trestart.err")"
same "$T/tref" "$T/o/tout"
pass
