# cr_run --omit: the process (and, through LD_PRELOAD, its children) is left out; a checkpoint request is
# refused with ESRCH (3) and never leaves a file, empty or not.
. "$top_srcdir/tests/engine/lib.sh"
bg "$CR_RUN" --omit sleep 30
pid=$!
wait_runtime $pid
expect_refusal 3 "left itself out of the checkpoint" "$CR_CHECKPOINT" --pid -f "$T/o.ctx" $pid
[ ! -e "$T/o.ctx" ] && [ ! -e "$T/o.ctx.tmp" ] || fail "an omitted process produced a file"
pass
