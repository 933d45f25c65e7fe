# make install puts the runtime, the tools, the man pages, the pkg-config file and the
# magic entry in place, and the installed tools checkpoint and restart a program.
. "$top_srcdir/tests/engine/lib.sh"
D=$T/dest
within 300 make -C "$top_builddir" install DESTDIR="$D" > "$T/install.log" 2>&1 || fail "make install failed"
prefix=$(sed -n 's/^prefix=//p' "$top_builddir/slurm-cr.pc")
libdir=$(sed -n 's/^libdir=//p' "$top_builddir/slurm-cr.pc" | sed "s|\${exec_prefix}|$prefix|")
for f in bin/cr_run bin/cr_checkpoint bin/cr_restart bin/cr_info share/man/man1/cr_run.1 \
         share/man/man1/cr_checkpoint.1 share/man/man1/cr_restart.1 share/man/man1/cr_info.1 \
         share/slurm-cr/slurm-cr.magic; do
    [ -e "$D$prefix/$f" ] || fail "make install did not install $prefix/$f"
done
for f in libcr_run.so libcr.so libcr.so.0 libcr_omit.so; do
    [ -e "$D$libdir/$f" ] || fail "make install did not install $libdir/$f"
done
includedir=$(sed -n 's/^includedir=//p' "$top_builddir/slurm-cr.pc" | sed "s|\${prefix}|$prefix|")
[ -e "$D$includedir/libcr.h" ] || fail "make install did not install $includedir/libcr.h"
[ -e "$D$libdir/pkgconfig/slurm-cr.pc" ] || fail "no pkg-config file"
# the installed cr_run looks for the runtime where it was installed
strings "$D$prefix/bin/cr_run" | grep -qx "$libdir/libcr_run.so" || fail "cr_run does not know $libdir/libcr_run.so"
for t in cr_run cr_checkpoint cr_restart cr_info; do
    "$D$prefix/bin/$t" --help | grep -q "^Usage: $t" || fail "$t --help says no usage"
done
export CR_RUN_LIB=$D$libdir/libcr_run.so
within 60 "$PROGS/heapsum" 8 20 0 > "$T/ref"
bg "$D$prefix/bin/cr_run" "$PROGS/heapsum" 8 20 100 > "$T/out" 2> "$T/run.err"
pid=$!
wait_runtime $pid
wait_lines "$T/out" 3
within 60 "$D$prefix/bin/cr_checkpoint" --kill -f "$T/i.ctx" $pid || fail "installed cr_checkpoint failed"
wait_gone $pid
if command -v file >/dev/null; then
    file -m "$D$prefix/share/slurm-cr/slurm-cr.magic" "$T/i.ctx" | grep -q "slurm-cr context file, format 1" \
        || fail "file(1) does not recognise the context file: $(file -m "$D$prefix/share/slurm-cr/slurm-cr.magic" "$T/i.ctx")"
fi
within 60 "$D$prefix/bin/cr_restart" "$T/i.ctx" || fail "installed cr_restart failed"
same "$T/ref" "$T/out"

# a BLCR program builds against the installed header and library, found by pkg-config
# (rpath-link and LD_LIBRARY_PATH only because the DESTDIR copy is not where ld.so looks)
flags=$(PKG_CONFIG_PATH="$D$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$D" pkg-config --cflags --libs slurm-cr) \
    || fail "pkg-config does not know slurm-cr"
${CC:-cc} -o "$T/blcr_prog" "$top_srcdir/tests/programs/api_blcr.c" $flags -lpthread -Wl,-rpath-link,"$D$libdir" \
    || fail "the BLCR program does not build against the installed libcr ($flags)"
LD_LIBRARY_PATH="$D$libdir" within 30 "$T/blcr_prog" self "$T/b.ctx" > "$T/b.out" 2>&1 || fail "the installed libcr failed: $(cat "$T/b.out")"
grep -qx continue "$T/b.out" || fail "the self-checkpoint through the installed libcr failed: $(cat "$T/b.out")"
pass
