# The runtime stays out of the application's way: its own descriptors do not take
# the low numbers a program expects from open(), under cr_run or not.
. "$top_srcdir/tests/engine/lib.sh"
PY=${PYTHON3:-python3}
prog='import os; print(os.open("/dev/null", os.O_RDONLY), os.pipe())'
plain=$(within 30 "$PY" -c "$prog") || fail "python3 failed"
under=$(within 30 "$CR_RUN" "$PY" -c "$prog") || fail "python3 under cr_run failed"
[ "$plain" = "$under" ] || fail "descriptors differ under cr_run: '$under' instead of '$plain'"
pass
