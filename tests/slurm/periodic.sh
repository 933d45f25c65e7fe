#!/bin/bash
# srun --checkpoint=0:02 takes checkpoints of every task of the step every two
# seconds into <checkpoint-dir>/<jobid>.<stepid>/gen.N (each complete generation with
# its manifest, `latest` pointing at the newest, older ones pruned, events as JSON
# lines, and to the site's event hook), as the job user;
# a task restarted from the latest generation finishes its output as an uninterrupted
# run does.  Once a task has ended, no generation is complete (each must hold every
# task of the step), and the writer says which rank is missing.
. "$top_srcdir/tests/slurm/lib.sh"
HOOK=$(mktemp -d /tmp/slurm-cr-hook.XXXXXX)
chmod 1777 "$HOOK"
cat > "$HOOK/hook" <<SH
#!/bin/sh
# the site's event hook: one JSON line on stdin, the event's name in CR_EVENT
{ printf '%s ' "\$CR_EVENT"; cat; } >> "$HOOK/hook.log"
SH
chmod 755 "$HOOK/hook"
slurm_test_cluster periodic generations=2 event_hook=$HOOK/hook

timeout 60 "$B/tests/programs/heapsum" 8 90 0 > "$D/ref" || fail "reference run failed"
cluster_run timeout 120 srun -N1 -n2 --checkpoint=0:02 --checkpoint-dir="$S/ck" \
    "$B/tests/programs/heapsum" 8 90 100 > "$D/srun.out" 2> "$D/srun.err" || fail "the step failed: $(cat "$D/srun.err")"
img=$(ls -d "$S"/ck/*.0 2>/dev/null | head -n 1)
[ -n "$img" ] || fail "no image directory under $S/ck"
ls -la "$img" >&2
[ "$(stat -c %U "$img")" = "$CLUSTER_USER" ] || fail "the images do not belong to the job user"
gens=$(ls -d "$img"/gen.* 2>/dev/null | grep -vc '\.tmp$')
[ "$gens" -ge 1 ] && [ "$gens" -le 2 ] || fail "$gens complete generations kept, expected 1 or 2 (generations=2)"
latest=$(readlink "$img/latest") || fail "no latest pointer"
n=${latest#gen.}
[ "$n" -ge 3 ] || fail "only $n generations in a 9 s step with a 2 s interval"
grep -qx "tasks 2" "$img/$latest/manifest" || fail "the manifest does not list 2 tasks"
for r in 0 1; do
    cluster_run "$B/util/cr_info" -q "$img/$latest/task.$r.ckpt" || fail "task.$r.ckpt is not valid"
done
[ ! -s "$img/errors.log" ] || fail "the writer reported errors: $(cat "$img/errors.log")"
# events after BLCR's schema: every BEGIN has exactly one END or ERROR with its handle
python3 - "$img/events.jsonl" "$n" <<'PYEOF' || fail "the events are not right: $(cat "$img/events.jsonl")"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
begins = [e["handle"] for e in ev if e["event"] == "CHKPT_BEGIN"]
ends = [e for e in ev if e["event"] in ("CHKPT_END", "CHKPT_ERROR")]
assert len(begins) == len(set(begins)) and begins, "BEGIN handles repeat or are missing"
for h in begins:
    done = [e for e in ends if e["handle"] == h]
    assert len(done) <= 1, "more than one END/ERROR for " + h
ok = [e for e in ends if e["event"] == "CHKPT_END"]
assert len(ok) >= int(sys.argv[2]) and all(e["bytes"] > 0 for e in ok), "ENDs missing or empty"
assert all("errno" in e for e in ends if e["event"] == "CHKPT_ERROR")
assert all(e["handle"] in begins for e in ends), "an END/ERROR without its BEGIN"
PYEOF
# the site's hook got the same events, as the job user
for i in $(seq 1 50); do [ -s "$HOOK/hook.log" ] && break; sleep 0.1; done
[ "$(stat -c %U "$HOOK/hook.log" 2>/dev/null)" = "$CLUSTER_USER" ] || fail "the event hook did not run as the job user"
grep -q '^CHKPT_END {"event":"CHKPT_END"' "$HOOK/hook.log" || fail "the event hook did not get CHKPT_END: $(head -3 "$HOOK/hook.log")"
rm -rf "$HOOK"
# restarted from the latest generation, task 0 finishes what it was doing
cluster_run timeout 120 "$B/util/cr_restart" "$img/$latest/task.0.ckpt" > "$D/rest" || fail "restart failed"
k=$(wc -l < "$D/rest")
[ "$k" -ge 2 ] || fail "the restarted task printed only $k lines"
tail -n "$k" "$D/ref" | cmp - "$D/rest" || fail "the restarted task's output is not the end of an uninterrupted run"

# rank 3 (on n2, with rank 2) ends after 3.5 s, the others after 10 s
cluster_run mkdir -p "$S/early"
cluster_run RANKCOUNT_STEPS=3:35 timeout 120 srun -N2 -n4 --checkpoint=0:01 --checkpoint-dir="$S/ck" \
    "$B/tests/programs/rankcount" "$S/early" 100 100 > "$D/early.out" 2> "$D/early.err" ||
    fail "the step failed: $(cat "$D/early.err")"
img=$(ls -d "$S"/ck/*.0 | grep -vx "$img")
latest=$(readlink "$img/latest") || fail "no complete generation while every rank ran"
for m in "$img"/gen.*/manifest; do
    grep -qx "tasks 4" "$m" || fail "a generation without every task was complete: $(cat "$m")"
done
[ "$(stat -c %Y "$img/$latest/manifest")" -le "$(stat -c %Y "$S/early/rank.3")" ] ||
    fail "$latest was completed after rank 3 had ended"
grep -q "rank 3 was not saved" "$img/errors.log" || fail "no error names rank 3: $(cat "$img/errors.log")"
pass
