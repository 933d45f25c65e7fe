# The RPM packages: `make dist` from a clean copy of the tree (configured with
# --with-scontrol-wrapper, whose install link is checked on the way), then rpmbuild -bb with
# slurm-cr.spec from that tarball (as an unprivileged user), and the packages hold
# the main files.  On Debian the rpm tools come from Debian's own rpm package; its
# rpm database is empty, so BuildRequires are not checked (--nodeps): the build
# dependencies are Debian's (scripts/install-deps).  The SPANK plugin and its package
# are built when Slurm's headers are found (libslurm-dev here), as with slurm-devel.
. "$top_srcdir/tests/engine/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root (installs rpm with apt-get)"
command -v apt-get >/dev/null || command -v rpmbuild >/dev/null || skip "no apt-get to install rpmbuild"
U=${TEST_USER:-crtest}
id "$U" >/dev/null 2>&1 || U=nobody
chmod 755 "$T"
"$top_srcdir/scripts/install-deps-packaging" rpm rpm2cpio cpio binutils > "$T/deps.log" 2>&1 ||
    skip "cannot install rpmbuild (Debian's rpm package): $(tail -n 1 "$T/deps.log")"
command -v rpmbuild >/dev/null || skip "no rpmbuild after installing rpm"
# as_u SECONDS CMD: CMD (a shell string) as the unprivileged user, with a time limit
as_u() { within "$1" setpriv --reuid="$U" --regid="$(id -g "$U")" --clear-groups env -i HOME="$T" \
    PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 sh -c "$2"; }

S=$T/src
mkdir -p "$S"
if [ -d "$top_srcdir/.git" ] || [ -f "$top_srcdir/.git" ]; then
    (cd "$top_srcdir" && git -c safe.directory='*' ls-files -z --cached --others --exclude-standard |
        tar --null -T - -cf -) | tar -C "$S" -xf - || fail "cannot copy the sources with git ls-files"
else
    tar -C "$top_srcdir" --exclude=./build --exclude=./autom4te.cache --exclude=./.git -cf - . |
        tar -C "$S" -xf - || fail "cannot copy the sources"
fi
chown -R "$U:" "$S"
as_u 900 "cd '$S' && { [ -x configure ] || autoreconf -fi; } && mkdir -p dist && cd dist &&
    ../configure -q --with-scontrol-wrapper=yes && make dist" \
    > "$T/dist.log" 2>&1 || { tail -n 30 "$T/dist.log" >&2; fail "make dist failed"; }

# make install's counterpart of the packages' scontrol: --with-scontrol-wrapper links
# /usr/local/bin/scontrol to scontrol-cr, and refuses to take the real scontrol's place
as_u 60 "cd '$S/dist' && make install-exec-hook DESTDIR='$S/d'" > "$T/hook.log" 2>&1 || fail "make install-exec-hook failed"
[ "$(readlink "$S/d/usr/local/bin/scontrol")" = /usr/local/bin/scontrol-cr ] ||
    fail "--with-scontrol-wrapper=yes installed no /usr/local/bin/scontrol -> scontrol-cr: $(cat "$T/hook.log")"
as_u 300 "mkdir '$S/c2' && cd '$S/c2' && ../configure -q SCONTROL=/usr/bin/scontrol --with-scontrol-wrapper=/usr/bin/scontrol" \
    > "$T/refuse.log" 2>&1 && fail "configure let --with-scontrol-wrapper replace the real scontrol"
grep -q 'would replace the real scontrol' "$T/refuse.log" || fail "configure's refusal: $(tail -n 3 "$T/refuse.log")"
tarball=$(ls "$S"/dist/slurm-cr-*.tar.gz | head -n 1)
[ -f "$tarball" ] || fail "make dist made no tarball"
name=$(basename "$tarball" .tar.gz)

R=$T/rpm
mkdir -p "$R" && chown "$U:" "$R"
as_u 60 "mkdir -p '$R/SOURCES' '$R/SPECS' && cp '$tarball' '$R/SOURCES/' &&
    tar -xzOf '$tarball' '$name/slurm-cr.spec' > '$R/SPECS/slurm-cr.spec'" || fail "no slurm-cr.spec in $tarball"
start=$(date +%s)
# niced: the Slurm tests that run beside it under make -j have time limits
as_u 1800 "nice -n 10 rpmbuild -bb --nodeps --define '_topdir $R' --define '_smp_mflags -j$(nproc)' '$R/SPECS/slurm-cr.spec'" \
    > "$T/rpmbuild.log" 2>&1 || { tail -n 40 "$T/rpmbuild.log" >&2; fail "rpmbuild -bb failed"; }
echo "rpm.sh: rpmbuild -bb took $(( $(date +%s) - start ))s"
lib=$(rpm --eval '%{_libdir}')
spank=yes
[ -f /usr/include/slurm/spank.h ] || spank=no
for p in slurm-cr slurm-cr-devel slurm-cr-spank; do
    f=$(ls "$R"/RPMS/x86_64/"$p"-[0-9]*.rpm 2>/dev/null | head -n 1)
    if [ -z "$f" ]; then
        [ $p = slurm-cr-spank ] && [ $spank = no ] && continue
        fail "rpmbuild made no $p package"
    fi
    rpm -qlp "$f" > "$T/$p.files" 2>> "$T/rpm.err" || fail "rpm -qlp $f failed"
    echo "rpm.sh: $(basename "$f"): $(wc -l < "$T/$p.files") files"
done
has() { grep -qx "$2" "$T/$1.files" || fail "package $1 lacks $2 (it has: $(tr '\n' ' ' < "$T/$1.files"))"; }
for f in /usr/bin/cr_run /usr/bin/cr_checkpoint /usr/bin/cr_restart /usr/bin/cr_info /usr/bin/scontrol-cr \
         "$lib/libcr.so.0" "$lib/libcr_run.so" "$lib/libcr_omit.so" /usr/libexec/slurm-cr/cr_agent \
         /usr/libexec/slurm-cr/bin/scontrol /usr/share/slurm-cr/slurm-cr.magic; do
    has slurm-cr "$f"
done
grep -q '^/usr/share/man/man1/cr_checkpoint\.1' "$T/slurm-cr.files" || fail "slurm-cr lacks cr_checkpoint(1)"
for f in /usr/include/libcr.h "$lib/libcr.so" "$lib/pkgconfig/slurm-cr.pc"; do has slurm-cr-devel "$f"; done
if [ $spank = yes ]; then
    has slurm-cr-spank "$lib/slurm-cr/spank_cr.so"
    has slurm-cr-spank /etc/slurm/plugstack.conf.d/slurm-cr.conf
fi
# the runtime is looked for where the package puts it, and scontrol-cr runs the moved scontrol
rpm2cpio "$(ls "$R"/RPMS/x86_64/slurm-cr-[0-9]*.rpm)" | (mkdir -p "$T/x" && cd "$T/x" && cpio -idm --quiet) ||
    fail "cannot unpack the slurm-cr package"
strings "$T/x/usr/bin/cr_run" | grep -qx "$lib/libcr_run.so" || fail "cr_run does not look for $lib/libcr_run.so"
grep -q '^REAL=${SCONTROL_CR_REAL:-/usr/bin/scontrol.distrib}' "$T/x/usr/bin/scontrol-cr" ||
    fail "scontrol-cr does not run /usr/bin/scontrol.distrib"
rpm -qp --triggers "$(ls "$R"/RPMS/x86_64/slurm-cr-[0-9]*.rpm)" | grep -q 'scontrol.distrib' ||
    fail "the slurm-cr package has no trigger that moves Slurm's scontrol"

# The scriptlets that stand for dpkg-divert, run by rpm itself: a stand-in for Slurm's
# package (only /usr/bin/scontrol) and slurm-cr installed, upgraded and erased in a
# scratch root whose /bin/sh is a static busybox.
if ! "$top_srcdir/scripts/install-deps-packaging" busybox-static >> "$T/deps.log" 2>&1 || [ ! -x /bin/busybox ]; then
    echo "rpm.sh: no static busybox: the scontrol scriptlets are not run"
    pass
fi
mkdir -p "$R/SPECS" && cat > "$R/SPECS/slurm.spec" <<'SPEC'
Name: slurm
Version: %{ver}
Release: 1
Summary: a stand-in for Slurm's package: its scontrol only
License: none
BuildArch: noarch
%description
A stand-in.
%install
mkdir -p %{buildroot}/usr/bin
printf '#!/bin/sh\necho "slurm %{ver}"\n' > %{buildroot}/usr/bin/scontrol
chmod 755 %{buildroot}/usr/bin/scontrol
%files
/usr/bin/scontrol
SPEC
chown -R "$U:" "$R"
for v in 22.05.8 22.05.9; do
    as_u 120 "rpmbuild -bb --define '_topdir $R' --define 'ver $v' '$R/SPECS/slurm.spec'" >> "$T/stand-in.log" 2>&1 ||
        fail "cannot build the stand-in Slurm package (log: $T/stand-in.log)"
done
X=$T/root
mkdir -p "$X/bin" "$X/usr/bin"
cp /bin/busybox "$X/bin/busybox"
for c in sh mv ln rm test [ cat; do ln -s busybox "$X/bin/$c"; done
rpm_x() { rpm --root "$X" --dbpath /var/lib/rpm "$@" >> "$T/rpm-root.log" 2>&1 || fail "rpm $* failed: $(tail -n 3 "$T/rpm-root.log")"; }
slurm() { ls "$R"/RPMS/noarch/slurm-"$1"-1.noarch.rpm; }
crpm=$(ls "$R"/RPMS/x86_64/slurm-cr-[0-9]*.rpm)
sc=$X/usr/bin/scontrol
# what /usr/bin/scontrol and scontrol.distrib are: "cr VERSION" (link and Slurm's moved),
# or "slurm VERSION" (Slurm's in place), or "none"
state() {
    if [ -L "$sc" ] && [ "$(readlink "$sc")" = scontrol-cr ] && [ -f "$sc.distrib" ]; then echo "cr $(sh "$sc.distrib")"
    elif [ -f "$sc" ] && [ ! -L "$sc" ] && [ ! -e "$sc.distrib" ]; then sh "$sc"
    elif [ ! -e "$sc" ] && [ ! -L "$sc" ] && [ ! -e "$sc.distrib" ]; then echo none
    else echo "broken: $(ls -l "$X/usr/bin" | tr '\n' ' ')"; fi
}
expect() { [ "$(state)" = "$1" ] || fail "after $2: /usr/bin/scontrol is '$(state)', expected '$1'"; }
rpm_x --initdb
rpm_x --nodeps -i "$(slurm 22.05.8)";  expect "slurm 22.05.8" "installing Slurm"
rpm_x --nodeps -i "$crpm";             expect "cr slurm 22.05.8" "installing slurm-cr"
rpm_x --nodeps -U "$(slurm 22.05.9)";  expect "cr slurm 22.05.9" "upgrading Slurm"
rpm_x --nodeps -e slurm-cr;            expect "slurm 22.05.9" "erasing slurm-cr"
rpm_x --nodeps -i "$crpm";             expect "cr slurm 22.05.9" "installing slurm-cr again"
rpm_x --nodeps -e slurm;               expect "none" "erasing Slurm"
rpm_x --nodeps -i "$(slurm 22.05.8)";  expect "cr slurm 22.05.8" "installing Slurm after slurm-cr"
echo "rpm.sh: the scontrol scriptlets hold through installs, an upgrade and erasures"
pass
