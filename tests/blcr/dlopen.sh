# BLCR compatibility (d): dlopen("libcr.so." LIBCR_MAJOR) finds the installed library,
# whose soname is that very name, from a program that is not linked with it.
. "$top_srcdir/tests/engine/lib.sh"
. "$top_srcdir/tests/blcr/lib.sh"
major=$(printf '#include <libcr.h>\nlibcr_major_is LIBCR_MAJOR\n' | ${CC:-cc} -E -P $BLCR_CFLAGS - \
    | sed -n 's/^libcr_major_is //p')
soname=$(readelf -d "$BLCR_LIBDIR/libcr.so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[ "$soname" = "libcr.so.$major" ] || fail "libcr's soname is '$soname', LIBCR_MAJOR says libcr.so.$major"
${CC:-cc} -Wall -Werror -o "$T/dlopen" "$top_srcdir/tests/blcr/dlopen.c" $BLCR_CFLAGS -ldl > "$T/cc.log" 2>&1 \
    || fail "dlopen.c does not build: $(head -5 "$T/cc.log")"
readelf -d "$T/dlopen" | grep -q 'NEEDED.*libcr' && fail "dlopen is linked with libcr: it would not test dlopen"
within 30 "$T/dlopen" > "$T/dlopen.log" 2>&1 || fail "$(cat "$T/dlopen.log")"
[ "$(cat "$T/dlopen.log")" = "ok libcr.so.$major" ] || fail "dlopen said: $(cat "$T/dlopen.log")"
pass
