#!/bin/bash
# cr_info --json: one JSON object per file, for programs: the header, every process
# with its fds and memory, whether it was stopped, its table of known pids, valid or
# the error; a broken file says why and the exit
# status is its errno.
. "$top_srcdir/tests/engine/lib.sh"
PY=${PYTHON3:-python3}
cd "$T"
bg "$CR_RUN" bash -c 'exec 7< /etc/hostname; sleep 300 & wait'
pid=$!
wait_runtime $pid
i=0; until child=$(awk '{print $1}' /proc/$pid/task/$pid/children 2>/dev/null) && [ -n "$child" ]; do i=$((i+1)); [ $i -lt 600 ] || fail "no child"; sleep 0.05; done
# the tree's first process stopped by job control: saved as stopped (it comes back so)
kill -STOP $pid
i=0; until [ "$(awk '{print $3}' /proc/$pid/stat)" = T ]; do i=$((i+1)); [ $i -lt 600 ] || fail "the shell did not stop"; sleep 0.05; done
within 60 "$CR_CHECKPOINT" -f t.ctx $pid || fail "checkpoint failed"
kill -CONT $pid
within 30 "$CR_INFO" --json t.ctx > t.json || fail "cr_info --json failed"
"$PY" - t.json $pid <<'PYEOF' || fail "the JSON is not what the file holds: $(cat t.json)"
import json, sys
d = json.loads(open(sys.argv[1]).read())
assert d["valid"] is True and d["error"] is None, d
assert d["scope"] == "tree" and len(d["processes"]) == 2, d["processes"]
root = d["processes"][0]
assert root["pid"] == int(sys.argv[2]) and root["comm"] == "bash", root
fds = {f["fd"]: f for f in root["fds"]}
assert fds[7]["kind"] == "file" and fds[7]["target"] == "/etc/hostname" and fds[7]["access"] == "r", fds[7]
assert root["memory"]["regions"] > 0 and 0 < root["memory"]["saved"] <= root["memory"]["mapped"], root["memory"]
assert d["processes"][1]["ppid"] == root["pid"], d["processes"][1]
# stopped: the shell, by SIGSTOP; the table of known pids: there (under the runtime),
# empty before any restart
assert root["stopped"] == {"signal": 19} and d["processes"][1]["stopped"] is None, d["processes"]
assert root["pid_map"] == [] and d["processes"][1]["pid_map"] == [], d["processes"]
PYEOF
# restarted with new pids in place (a normal user's default), saved again: the table
# names each process's first pid with the one it has now
if [ "$(id -u)" != 0 ]; then
    i=0; until [ "$(awk '{print $3}' /proc/$pid/stat)" != T ]; do i=$((i+1)); [ $i -lt 600 ] || fail "the shell was not continued"; sleep 0.05; done
    within 60 "$CR_CHECKPOINT" --kill -f u.ctx $pid || fail "checkpoint of the running tree failed"
    wait_gone $pid
    bg "$CR_RESTART" u.ctx 2> r.err
    r=$!
    root=$(restored_pid $r)
    within 60 "$CR_CHECKPOINT" --kill -f t2.ctx $root || fail "checkpoint of the restarted tree failed"
    within 30 "$CR_INFO" --json t2.ctx > t2.json || fail "cr_info --json of the restarted tree failed"
    "$PY" - t2.json $pid $root <<'PYEOF' || fail "the restarted tree's JSON: $(cat t2.json)"
import json, sys
d = json.loads(open(sys.argv[1]).read())
first, now = int(sys.argv[2]), int(sys.argv[3])
root = d["processes"][0]
assert root["pid"] == now, root
assert {"known": first, "real": now} in root["pid_map"], root["pid_map"]
assert root["stopped"] is None, root
PYEOF
fi
# a broken file: valid false, the reason, the errno as status
head -c 5000 t.ctx > broken.ctx
rc=0; "$CR_INFO" --json broken.ctx > b.json || rc=$?
[ $rc != 0 ] || fail "a truncated file was valid"
"$PY" -c 'import json,sys; d=json.loads(open("b.json").read()); assert d["valid"] is False and d["error"], d' ||
    fail "the broken file's JSON: $(cat b.json)"
pass
