#!/bin/bash
# BLCR's orderings and error codes seen from a libcr program (tests/programs/api_order,
# api_errors): thread-context callbacks the most recent first, one hook per thread that
# runs it, no parent's thread-context callback in a fork()ed child, a self-checkpoint
# written before cr_request_checkpoint() returns, cr_dec_persist() below zero ERANGE,
# EBUSY for a request while another runs.
. "$top_srcdir/tests/engine/lib.sh"
cd "$T"
within 60 "$PROGS/api_order" order "$T/o.ctx" > o.out 2> o.err || fail "api_order order: $(cat o.err)"
printf 'events BA\nhooks cont-signal 0 cont-thread 1 cont-none 1\n' > o.expect
same o.expect o.out
within 60 "$PROGS/api_order" fork "$T/f.ctx" > f.out 2> f.err || fail "api_order fork: $(cat f.err)"
printf 'child events .\nparent events A.\n' > f.expect
same f.expect f.out
# a second request while one is in progress: EBUSY at once (the first waits for the
# program's critical section and then succeeds)
bg "$PROGS/api_blcr" hold "$T/x" > hold.out 2> hold.err
P=$!
wait_runtime $P
wait_lines hold.out 1
bg within 60 "$CR_CHECKPOINT" -t 30 -f first.ctx $P
FIRST=$!
i=0; until grep -qs "^cr-busy:" /proc/$P/task/*/comm; do i=$((i+1)); [ $i -lt 600 ] || fail "the first request never started"; sleep 0.05; done
expect_refusal 16 "process $P is being checkpointed for process $FIRST|process $P is being checkpointed for process [0-9]+; try again" \
    "$CR_CHECKPOINT" -f second.ctx $P
# ... and so for as many as come: its manager accepts none meanwhile, and a requester
# past its full queue of connections must not wait in connect() for the first's end
for i in 1 2 3 4 5 6 7 8; do
    rc=0; within 4 "$CR_CHECKPOINT" -f more.ctx $P 2> more.err || rc=$?
    kill -0 $FIRST 2>/dev/null || break # (over: nothing is busy any more)
    [ $rc = 16 ] || fail "request $i of those while another runs: exit $rc, not EBUSY at once: $(cat more.err)"
done
rm -f more.ctx
wait $FIRST || fail "the first request failed"
"$CR_INFO" -q first.ctx || fail "the first request wrote no valid file"
[ ! -e second.ctx ] || fail "the refused request left a file"
wait_gone $P
grep -qx left hold.out || fail "the program was harmed: $(cat hold.out hold.err)"
# a checkpoint of one's own tree (CR_SCOPE_TREE) takes the children too; restarted,
# the request says CR_ERESTARTED and the child is there
export CR_CHECKPOINT_PROG=$CR_CHECKPOINT
within 60 "$PROGS/api_order" tree "$T/t.ctx" > t.out 2> t.err || fail "api_order tree: $(cat t.err)"
printf 'continue\nchild ok\n' > t.expect
same t.expect t.out
"$CR_INFO" t.ctx | grep -q "^scope:    tree" || fail "the self-checkpoint of a tree is no tree file"
[ "$("$CR_INFO" t.ctx | grep -c '(api_order): child of')" = 2 ] || fail "the tree file does not hold both processes"
: > t.out
within 60 "$CR_RESTART" t.ctx 2> t.rs.err || fail "the tree did not restart: $(cat t.rs.err)"
printf 'restarted\nchild ok\n' > t.expect
same t.expect t.out
within 30 "$PROGS/api_errors" > e.out 2>&1 || { cat e.out >&2; fail "API error paths"; }
grep -qx "0 failures" e.out || fail "api_errors: $(cat e.out)"
pass
