# libcr's cr_request_checkpoint() of another process with scope CR_SCOPE_TREE,
# CR_SCOPE_SESS and CR_SCOPE_PGRP (and cr_checkpoint --sid, --pgid): one file for the
# whole tree (session, group), which restarts with the same output as an uninterrupted run.
. "$top_srcdir/tests/engine/lib.sh"
cd "$T"
# (at line 30 the loop waits for the file go: its processes all live until the
# checkpoints below are taken, however slow the machine)
script='for i in $(seq 1 100); do echo $i; sleep 0.05; [ $i = 30 ] && until [ -e ../go ]; do sleep 0.05; done; done | while read x; do echo $((x*x)); done > out; echo end'
mkdir ref run
touch go
(cd ref && within 60 bash -c "$script" > "$T/ref.out") || fail "the reference run failed"
rm go
cd run
# a session and process group of its own (setsid execs in place: $! is the shell)
bg setsid "$CR_RUN" bash -c "$script" > "$T/out"
pid=$!
wait_runtime $pid
wait_lines "$T/run/out" 25 60
for scope in tree sess pgrp; do
    within 60 "$PROGS/api_request" $pid "$T/$scope.ctx" $scope > "$T/$scope.log" ||
        fail "the $scope request failed: $(cat "$T/$scope.log")"
    grep -qx "checkpoint done" "$T/$scope.log" || fail "$(cat "$T/$scope.log")"
done
# the same scopes from the command line
within 60 "$CR_CHECKPOINT" --sid -f "$T/cli-sess.ctx" $pid || fail "cr_checkpoint --sid failed"
within 60 "$CR_CHECKPOINT" --pgid -f "$T/cli-pgrp.ctx" $pid || fail "cr_checkpoint --pgid failed"
"$CR_INFO" "$T/cli-sess.ctx" | grep -Eq "^scope: +session, [3-9] processes" || fail "--sid did not save the session"
"$CR_INFO" "$T/cli-pgrp.ctx" | grep -Eq "^scope: +process group, [3-9] processes" || fail "--pgid did not save the group"
"$CR_INFO" "$T/tree.ctx" | grep -Eq "^scope: +tree, [3-9] processes" || fail "not a tree file: $("$CR_INFO" "$T/tree.ctx" | head -3)"
"$CR_INFO" "$T/sess.ctx" | grep -Eq "^scope: +session, [3-9] processes" || fail "not a session file"
"$CR_INFO" "$T/pgrp.ctx" | grep -Eq "^scope: +process group, [3-9] processes" || fail "not a group file"
# the session asked for through one of its children: the same processes, parents first
sub=$(cat /proc/$pid/task/$pid/children | awk '{print $1}')
within 60 "$CR_CHECKPOINT" --sid --kill -f "$T/via-child.ctx" $sub || fail "cr_checkpoint --sid of a child failed"
wait_gone $pid
"$CR_INFO" "$T/via-child.ctx" | grep -A1 "^scope:" | grep -q "^  $pid (bash): child of 0" ||
    fail "the session's leader is not first: $("$CR_INFO" "$T/via-child.ctx" | sed -n 3,8p)"
# every process of the killed session gone before it comes back
i=0; while pgrep -s $pid > /dev/null; do i=$((i + 1)); [ $i -le 600 ] || fail "the killed session lives on"; sleep 0.05; done
touch "$T/go"
within 60 "$CR_RESTART" "$T/via-child.ctx" >> "$T/out" 2> "$T/restart.err" || fail "restart of the session failed: $(cat "$T/restart.err")"
same "$T/ref/out" "$T/run/out"
pass
