#!/bin/bash
# BLCR's orderings and error codes seen from a libcr program (tests/programs/api_order,
# api_errors): thread-context callbacks the most recent first, one hook per thread that
# runs it, no parent's thread-context callback in a fork()ed child, a self-checkpoint
# written before cr_request_checkpoint() returns, cr_dec_persist() below zero ERANGE.
. "$top_srcdir/tests/engine/lib.sh"
cd "$T"
within 60 "$PROGS/api_order" order "$T/o.ctx" > o.out 2> o.err || fail "api_order order: $(cat o.err)"
printf 'events BA\nhooks cont-signal 0 cont-thread 1 cont-none 1\n' > o.expect
same o.expect o.out
within 60 "$PROGS/api_order" fork "$T/f.ctx" > f.out 2> f.err || fail "api_order fork: $(cat f.err)"
printf 'child events .\nparent events A.\n' > f.expect
same f.expect f.out
within 30 "$PROGS/api_errors" > e.out 2>&1 || { cat e.out >&2; fail "API error paths"; }
grep -qx "0 failures" e.out || fail "api_errors: $(cat e.out)"
pass
