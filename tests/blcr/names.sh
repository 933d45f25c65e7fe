# BLCR compatibility (a): every name of BLCR's restart API compiles from <libcr.h>
# alone, against the installed headers, and has BLCR's values and errors.
. "$top_srcdir/tests/engine/lib.sh"
. "$top_srcdir/tests/blcr/lib.sh"
# the headers BLCR installs are there, and libcr.h brings the other two
for h in libcr.h blcr_common.h blcr_errcodes.h; do
    [ -f "$D$prefix/include/$h" ] || fail "make install did not install $h"
done
blcr_cc names names.c
within 30 "$T/names" > "$T/names.log" 2>&1 || fail "$(cat "$T/names.log")"
[ "$(cat "$T/names.log")" = ok ] || fail "names said: $(cat "$T/names.log")"
pass
