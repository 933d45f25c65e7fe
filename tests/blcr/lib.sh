# Helpers for the BLCR-compatibility tests; sourced by each tests/blcr/*.sh after
# tests/engine/lib.sh.  Programs here are built as a BLCR user builds them: against
# the installed headers and library, with the flags `pkg-config slurm-cr` gives and
# nothing from the source tree.  The install goes to a DESTDIR under $T: make
# install puts the headers and the pkg-config file there, and the built libraries and
# cr_restart are copied beside them (a full make install relinks libcr inside the build
# tree, which tests running in parallel would race on; tests/engine/install.sh checks
# that one).  rpath-link and LD_LIBRARY_PATH only because that copy is not where ld.so
# looks.
D=$T/dest
within 300 make -C "$top_builddir" install-includeHEADERS install-pkgconfigDATA DESTDIR="$D" \
    > "$T/install.log" 2>&1 || fail "make install of the headers and slurm-cr.pc failed"
prefix=$(sed -n 's/^prefix=//p' "$top_builddir/slurm-cr.pc")
libdir=$(sed -n 's/^libdir=//p' "$top_builddir/slurm-cr.pc" | sed "s|\${exec_prefix}|$prefix|")
mkdir -p "$D$libdir" "$D$prefix/bin"
cp -P "$top_builddir"/libcr/.libs/libcr.so* "$top_builddir/libcr/.libs/libcr_run.so" "$D$libdir/" \
    && cp "$top_builddir/util/cr_restart" "$D$prefix/bin/" || fail "cannot copy the built libraries"
BLCR_CFLAGS=$(PKG_CONFIG_PATH="$D$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$D" pkg-config --cflags slurm-cr) \
    || fail "pkg-config does not know slurm-cr"
BLCR_LIBS=$(PKG_CONFIG_PATH="$D$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$D" pkg-config --libs slurm-cr)
BLCR_LIBDIR=$D$libdir
export LD_LIBRARY_PATH=$BLCR_LIBDIR
# the library runs the cr_restart installed with it (compiled in: $prefix/bin)
export CR_RESTART_PROG=$D$prefix/bin/cr_restart

# blcr_cc NAME SOURCE [EXTRA...]: build $T/NAME from tests/blcr/SOURCE with -lcr
blcr_cc() {
    local name=$1 src=$2; shift 2
    ${CC:-cc} -Wall -Wextra -Werror -o "$T/$name" "$top_srcdir/tests/blcr/$src" $BLCR_CFLAGS "$@" \
        $BLCR_LIBS -Wl,-rpath-link,"$BLCR_LIBDIR" > "$T/$name.cc.log" 2>&1 \
        || fail "$src does not build against the installed libcr ($BLCR_CFLAGS $BLCR_LIBS): $(head -5 "$T/$name.cc.log")"
}
