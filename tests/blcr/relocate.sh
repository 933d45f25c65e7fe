# BLCR compatibility (c): the file a worker writes moves to another directory between
# its checkpoint and its restart; cr_request_restart with a struct cr_rstrt_relocate
# naming the move brings it back writing there, where an uninterrupted run's output
# is matched.  The same move without the relocation fails, naming the missing path.
. "$top_srcdir/tests/engine/lib.sh"
. "$top_srcdir/tests/blcr/lib.sh"
blcr_cc harness harness.c
H=$T/harness
cd "$T"
rc_ref=0
within 60 "$H" child "$T/ref.out" 40 0 "$T/none.ctx" 0 || rc_ref=$?
# ('=' and '\' in the paths: the library must escape them for cr_restart)
old="$T/old=a\\b" new="$T/new=c\\d"
mkdir "$old"
within 120 "$H" run "$old/out" 40 15 "$T/w.ctx" "$old" "$new" > "$T/run.log" 2>&1 \
    || fail "harness: $(cat "$T/run.log")"
[ "$(cat "$T/run.log")" = "status $rc_ref" ] || fail "harness said '$(cat "$T/run.log")', want 'status $rc_ref'"
[ ! -e "$old" ] || fail "$old came back"
same "$T/ref.out" "$new/out"

mkdir "$T/old2"
rc=0
HARNESS_NO_RELOCATE=1 within 120 "$H" run "$T/old2/out" 40 15 "$T/w2.ctx" "$T/old2" "$T/new2" \
    > "$T/norel.log" 2>&1 || rc=$?
[ $rc = 1 ] || fail "a restart without the relocation did not fail: $(cat "$T/norel.log")"
grep -q "^restart failed: .*(2): .*$T/old2/out" "$T/norel.log" \
    || fail "the failure does not say ENOENT and the old path: $(cat "$T/norel.log")"
pass
