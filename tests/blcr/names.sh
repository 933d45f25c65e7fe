# BLCR compatibility (a): every name of BLCR's restart API compiles from <libcr.h>
# alone, against the installed headers, and has BLCR's values and errors.
. "$top_srcdir/tests/engine/lib.sh"
. "$top_srcdir/tests/blcr/lib.sh"
# the headers BLCR installs are there, and libcr.h brings the other two
for h in libcr.h blcr_common.h blcr_errcodes.h; do
    [ -f "$D$prefix/include/$h" ] || fail "make install did not install $h"
done
blcr_cc names names.c
# strict ISO C and C++ see the headers without a warning, as BLCR's testcxx did
printf '#include <libcr.h>\nint main(void) { cr_restart_args_t a; return cr_initialize_restart_args_t(&a) + (int)CR_RSTRT_RELOCATE_SIZE(1) * 0; }\n' > "$T/strict.c"
${CC:-cc} -std=c99 -pedantic -Wall -Wextra -Werror -c -o "$T/strict.o" "$T/strict.c" $BLCR_CFLAGS > "$T/strict.log" 2>&1 \
    || fail "libcr.h with -std=c99 -pedantic: $(head -5 "$T/strict.log")"
if command -v "${CXX:-c++}" > /dev/null; then
    cp "$T/strict.c" "$T/strict.cc"
    ${CXX:-c++} -pedantic -Wall -Wextra -Werror -c -o "$T/strict.o" "$T/strict.cc" $BLCR_CFLAGS > "$T/strictxx.log" 2>&1 \
        || fail "libcr.h in C++: $(head -5 "$T/strictxx.log")"
fi
within 30 "$T/names" > "$T/names.log" 2>&1 || fail "$(cat "$T/names.log")"
[ "$(cat "$T/names.log")" = ok ] || fail "names said: $(cat "$T/names.log")"
pass
