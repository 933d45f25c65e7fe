#!/bin/bash
# compress=1 in plugstack.conf: the periodic checkpoints of a step (taken by the
# node's writer through the coordinated path, as the node agent takes them) are
# compressed; cr_info shows it and validates them; a task restarted from the latest
# generation finishes its output as an uninterrupted run does.
. "$top_srcdir/tests/slurm/lib.sh"
slurm_test_cluster compress generations=2 compress=1
P=$B/tests/programs/datakinds
timeout 60 "$P" 4 40 0 > "$D/ref" || fail "reference run failed"
cluster_run timeout 120 srun -N1 -n2 --checkpoint=0:02 --checkpoint-dir="$S/ck" \
    "$P" 4 40 150 > "$D/srun.out" 2> "$D/srun.err" || fail "the step failed: $(cat "$D/srun.err")"
img=$(ls -d "$S"/ck/*.0 2>/dev/null | head -n 1)
[ -n "$img" ] || fail "no image directory under $S/ck"
latest=$(readlink "$img/latest") || fail "no latest pointer: $(cat "$img/errors.log" 2>/dev/null)"
for r in 0 1; do
    cluster_run "$B/util/cr_info" "$img/$latest/task.$r.ckpt" > "$D/info.$r" ||
        fail "task.$r.ckpt is not valid"
    grep -q "compressed (zstd): .* ratio" "$D/info.$r" ||
        fail "task.$r.ckpt is not compressed: $(grep memory: "$D/info.$r")"
done
[ ! -s "$img/errors.log" ] || fail "the writer reported errors: $(cat "$img/errors.log")"
# every kept generation restarts to the end of an uninterrupted run; the latest may
# have been taken as the task ended, the one before it is two seconds older
most=0
for g in "$img"/gen.*; do
    case $g in *.tmp) continue ;; esac # (one not complete)
    cluster_run timeout 120 "$B/util/cr_restart" "$g/task.0.ckpt" > "$D/rest.${g##*.}" ||
        fail "restart of ${g##*/} failed"
    k=$(wc -l < "$D/rest.${g##*.}")
    tail -n "$k" "$D/ref" | cmp - "$D/rest.${g##*.}" ||
        fail "the task restarted from ${g##*/} printed what is not the end of an uninterrupted run"
    [ "$k" -le "$most" ] || most=$k
done
[ "$most" -ge 2 ] || fail "no generation was taken while the task still had two lines to print ($(ls "$img"))"
pass
