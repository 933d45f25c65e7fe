# The Debian packages, as a site gets them: built with dpkg-buildpackage from a clean
# copy of the tree (lintian: no errors), installed with apt-get (their dependencies from
# the package registry) into a clean Debian 12 chroot that already has Slurm's client,
# and used there by an unprivileged user from the installed paths only: a program is
# checkpointed, killed and restarted and ends as an uninterrupted run does; a BLCR
# program builds with slurm-cr-dev; man finds the pages; `scontrol checkpoint` reaches
# scontrol-cr and every other scontrol command Slurm's own scontrol; srun shows the
# SPANK plugin's options.  Removing the packages gives /usr/bin/scontrol back to Slurm;
# slurm-cr installed before slurm-client works too.
# The debootstrap'd base system (a tarball) and the .debs apt fetched are cached in
# $SLURM_CR_TEST_CACHE (default /var/cache/slurm-cr-test; remove it to start afresh):
# the first run takes about a minute more.  SLURM_CR_TEST_KEEP=1 keeps the chroot.
. "$top_srcdir/tests/engine/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root (debootstrap, chroot, apt-get)"
command -v apt-get >/dev/null || skip "not a Debian system: no apt-get"
U=${TEST_USER:-crtest}
id "$U" >/dev/null 2>&1 || U=nobody
SUITE=bookworm
CACHE=${SLURM_CR_TEST_CACHE:-/var/cache/slurm-cr-test}
C=
STEP=start
chmod 755 "$T"
say() { STEP=$*; echo "packages.sh: $* ($(date +%T))"; }

# kill what runs in the chroot, unmount its /proc, remove it (never across a mount)
chroot_cleanup() {
    [ -n "$C" ] && [ -d "$C" ] || return 0
    local p n=0
    for p in /proc/[0-9]*; do
        [ "$(readlink "$p/root" 2>/dev/null)" = "$C" ] && kill -9 "${p#/proc/}" 2>/dev/null && n=$((n + 1))
    done
    [ $n = 0 ] || sleep 0.5
    mountpoint -q "$C/proc" && { umount "$C/proc" || umount -l "$C/proc"; }
    [ -d "$C/home/crpkg" ] && cp -r "$C/home/crpkg" "$T/chroot-home" 2>/dev/null
    # SLURM_CR_TEST_KEEP=1: keep the chroot (unmounted) to look into it
    [ "${SLURM_CR_TEST_KEEP:-0}" = 1 ] && { echo "packages.sh: chroot kept in $C" >&2; return 0; }
    if grep -q " $C/" /proc/mounts; then
        echo "packages.sh: $C still has mounts: not removed" >&2
    else
        rm -rf "$C"
    fi
}
trap 'rc=$?; [ $rc = 0 ] || [ $rc = 77 ] || echo "packages.sh: failed during: $STEP" >&2; chroot_cleanup; cleanup' EXIT

say "installing the packaging tools"
"$top_srcdir/scripts/install-deps-packaging" dpkg-dev debhelper dh-autoreconf fakeroot lintian debootstrap \
    > "$T/deps.log" 2>&1 || skip "cannot install dpkg-buildpackage, lintian and debootstrap: $(tail -n 1 "$T/deps.log")"

# ---- the packages, from a clean copy of the sources, built as an unprivileged user ----
say "building the packages"
S=$T/src/slurm-cr
mkdir -p "$S"
if [ -d "$top_srcdir/.git" ] || [ -f "$top_srcdir/.git" ]; then
    (cd "$top_srcdir" && git -c safe.directory='*' ls-files -z --cached --others --exclude-standard |
        tar --null -T - -cf -) | tar -C "$S" -xf - || fail "cannot copy the sources with git ls-files"
else
    # scripts/test's copy: sources and autoreconf's output, the build in ./build
    tar -C "$top_srcdir" --exclude=./build --exclude=./autom4te.cache --exclude=./.git -cf - . |
        tar -C "$S" -xf - || fail "cannot copy the sources"
fi
[ -f "$S/debian/control" ] || fail "no debian/control in the copy of $top_srcdir"
(cd "$S" && dpkg-checkbuilddeps) > "$T/builddeps.log" 2>&1 || {
    need=$(sed -n 's/.*Unmet build dependencies: //p' "$T/builddeps.log" | sed 's/([^)]*)//g')
    "$top_srcdir/scripts/install-deps-packaging" $need >> "$T/deps.log" 2>&1 ||
        fail "cannot install the build dependencies: $need"
}
chown -R "$U:" "$T/src"
# as_u SECONDS CMD: CMD (a shell string) as the unprivileged user, with a time limit
as_u() { within "$1" setpriv --reuid="$U" --regid="$(id -g "$U")" --clear-groups env -i HOME="$T" \
    PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 sh -c "$2"; }
start=$(date +%s)
# niced: the Slurm tests that run beside it under make -j have time limits
as_u 1800 "cd '$S' && DEB_BUILD_OPTIONS=parallel=$(nproc) nice -n 10 dpkg-buildpackage -us -uc -b" \
    > "$T/dpkg-buildpackage.log" 2>&1 || { tail -n 40 "$T/dpkg-buildpackage.log" >&2; fail "dpkg-buildpackage failed"; }
echo "packages.sh: built in $(( $(date +%s) - start ))s"
DEBS=
for p in slurm-cr slurm-cr-dev slurm-cr-spank; do
    f=$(ls "$T/src/${p}_"*_amd64.deb 2>/dev/null | head -n 1)
    [ -n "$f" ] || fail "dpkg-buildpackage made no $p package"
    DEBS="$DEBS $f"
done
for f in $DEBS; do dpkg-deb -c "$f" | awk '{print $6}' > "$T/$(basename "$f" .deb).files"; done
has() { grep -qx "./$2" "$T/$1"_*.files || fail "package $1 lacks /$2"; }
has slurm-cr usr/bin/cr_checkpoint; has slurm-cr usr/bin/scontrol-cr; has slurm-cr usr/bin/scontrol
has slurm-cr usr/lib/x86_64-linux-gnu/libcr_run.so; has slurm-cr usr/libexec/slurm-cr/cr_agent
has slurm-cr usr/share/man/man1/cr_checkpoint.1.gz
has slurm-cr-dev usr/include/libcr.h; has slurm-cr usr/share/bash-completion/completions/cr_checkpoint; has slurm-cr-dev usr/lib/x86_64-linux-gnu/pkgconfig/slurm-cr.pc
has slurm-cr-spank usr/lib/x86_64-linux-gnu/slurm-cr/spank_cr.so
has slurm-cr-spank etc/slurm/plugstack.conf.d/slurm-cr.conf

say "lintian"
as_u 600 "lintian --pedantic -I '$(ls "$T"/src/slurm-cr_*_amd64.changes)'" > "$T/lintian.log" 2>&1
grep '^E: ' "$T/lintian.log" && fail "lintian found errors (all in $T/lintian.log)"
echo "packages.sh: lintian: $(grep -c '^W: ' "$T/lintian.log") warnings, no errors"

# ---- a clean Debian 12 chroot, from the registry apt uses here ----
mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $2 ~ /^http/ && $3 ~ /^(bookworm|stable)$/ { print $2; exit }' \
    /etc/apt/sources.list 2>/dev/null)
mirror=${mirror:-http://deb.debian.org/debian}
mkdir -p "$CACHE"
base=$CACHE/$SUITE-minbase.tar
(
    flock 9
    [ -s "$base" ] && exit 0
    say "debootstrap $SUITE from $mirror (cached in $base for the next runs)"
    rm -rf "$CACHE/debootstrap.tmp"
    within 1200 debootstrap --variant=minbase "$SUITE" "$CACHE/debootstrap.tmp" "$mirror" \
        > "$T/debootstrap.log" 2>&1 || { tail -n 20 "$T/debootstrap.log" >&2; rm -rf "$CACHE/debootstrap.tmp"; exit 1; }
    tar -C "$CACHE/debootstrap.tmp" -cf "$base.tmp" . && mv "$base.tmp" "$base"
    rc=$?
    rm -rf "$CACHE/debootstrap.tmp"
    exit $rc
) 9> "$CACHE/lock" || fail "debootstrap of $SUITE failed (log: $T/debootstrap.log)"

say "installing the packages in a $SUITE chroot"
# a run killed with SIGKILL left its chroot: older than 3 hours and nothing runs in it
for d in $(find "$CACHE" -maxdepth 1 -name 'chroot.*' -type d -mmin +180 2>/dev/null); do
    busy=0
    for p in /proc/[0-9]*; do [ "$(readlink "$p/root" 2>/dev/null)" = "$d" ] && busy=1 && break; done
    [ $busy = 0 ] || continue
    mountpoint -q "$d/proc" && umount "$d/proc"
    grep -q " $d/" /proc/mounts || { echo "packages.sh: removing the stale $d"; rm -rf "$d"; }
done
C=$(mktemp -d "$CACHE/chroot.XXXXXX")
chmod 755 "$C"
tar -C "$C" -xf "$base" || fail "cannot unpack $base"
if grep -qs "VERSION_CODENAME=$SUITE" /etc/os-release && [ -f /etc/apt/sources.list.d/debian.sources ]; then
    cp /etc/apt/sources.list.d/debian.sources "$C/etc/apt/sources.list.d/" && rm -f "$C/etc/apt/sources.list"
else
    echo "deb $mirror $SUITE main" > "$C/etc/apt/sources.list"
fi
# (no /etc/resolv.conf: a registry reached by address, or a local mirror)
if [ -f /etc/resolv.conf ]; then
    cp /etc/resolv.conf "$C/etc/resolv.conf" || fail "cannot copy /etc/resolv.conf into the chroot"
fi
# a registry that is a dated snapshot has an expired Release file
echo 'Acquire::Check-Valid-Until "false";' > "$C/etc/apt/apt.conf.d/99slurm-cr-test"
# no daemon of the packages (munge) starts in the chroot
printf '#!/bin/sh\nexit 101\n' > "$C/usr/sbin/policy-rc.d" && chmod 755 "$C/usr/sbin/policy-rc.d"
mount -t proc proc "$C/proc" || fail "cannot mount /proc in the chroot"
# scontrol reads a configuration even for --version: one node, no daemon runs
printf 'ClusterName=pkgtest\nSlurmctldHost=localhost\nNodeName=localhost CPUs=1 State=UNKNOWN\nPartitionName=debug Nodes=localhost Default=YES\n' \
    > "$T/slurm.conf"
mkdir -p "$CACHE/archives" "$C/tmp/debs"
# the packages a run before downloaded (none the first time)
find "$CACHE/archives" -maxdepth 1 -name '*.deb' -exec cp -t "$C/var/cache/apt/archives/" {} + ||
    fail "cannot copy the cached packages into the chroot"
cp $DEBS "$C/tmp/debs/"
# inc CMD...: CMD as root in the chroot; apt_in ARGS...: apt-get there
CENV="env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive"
inc() { chroot "$C" $CENV "$@"; }
apt_in() { within 900 chroot "$C" $CENV apt-get -q -y -o Dpkg::Options::=--force-confdef "$@"; }
apt_in update > "$T/apt.log" 2>&1 || fail "apt-get update failed in the chroot (log: $T/apt.log)"
# the site's Slurm first (scontrol is then diverted by our package), man-db for man
apt_in install --no-install-recommends slurm-client man-db gcc libc6-dev pkgconf >> "$T/apt.log" 2>&1 ||
    fail "cannot install slurm-client in the chroot (log: $T/apt.log)"
apt_in install --no-install-recommends $(for f in $DEBS; do echo "/tmp/debs/${f##*/}"; done) >> "$T/apt.log" 2>&1 ||
    fail "apt-get could not install the packages (log: $T/apt.log)"
find "$C/var/cache/apt/archives" -maxdepth 1 -name '*.deb' -exec cp -t "$CACHE/archives/" {} + ||
    fail "cannot keep the downloaded packages in $CACHE/archives"
cp "$T/slurm.conf" "$C/etc/slurm/slurm.conf"
inc dpkg-divert --list /usr/bin/scontrol | grep -q 'diversion of /usr/bin/scontrol to /usr/bin/scontrol.distrib by slurm-cr' ||
    fail "no diversion of /usr/bin/scontrol: $(inc dpkg-divert --list)"
[ -x "$C/usr/bin/scontrol.distrib" ] && [ ! -L "$C/usr/bin/scontrol.distrib" ] || fail "Slurm's scontrol is not at /usr/bin/scontrol.distrib"
grep -q '^optional /usr/lib/x86_64-linux-gnu/slurm-cr/spank_cr.so' "$C/etc/slurm/plugstack.conf.d/slurm-cr.conf" &&
    [ -f "$C/usr/lib/x86_64-linux-gnu/slurm-cr/spank_cr.so" ] || fail "the plugstack.conf.d snippet names no installed plugin"

# ---- as a user of the chroot, with a login shell's PATH and the installed files only ----
say "smoke test as an unprivileged user in the chroot"
inc useradd -m -s /bin/sh crpkg || fail "useradd in the chroot failed"
cat > "$C/home/crpkg/smoke.sh" <<'EOF'
set -u
exec 2>> "$HOME/smoke.err"
fail() { echo "FAIL: $*"; exit 1; }
cd "$HOME"
echo "PATH=$PATH"
# one process that computes and prints: the same lines whether interrupted or not
prog='$| = 1; my $s = 0; for my $i (1 .. 40) { $s = ($s * 31 + $i * $i) % 1000003; print "$i $s\n"; select(undef, undef, undef, 0.05) }'
perl -e "$prog" > ref || fail "perl failed"
cr_run perl -e "$prog" > out 2> run.err &
pid=$!
i=0
while [ "$(cat out 2>/dev/null | wc -l)" -lt 5 ]; do i=$((i + 1)); [ $i -lt 400 ] || fail "cr_run's program printed nothing"; sleep 0.05; done
cr_checkpoint --kill -f ctx.img $pid > ckpt.out 2>&1 || fail "cr_checkpoint failed: $(cat ckpt.out)"
{ wait $pid; } 2>/dev/null   # killed by the checkpoint
[ "$(wc -l < out)" -lt 40 ] || fail "the program ended before it was checkpointed"
cr_info ctx.img > info.out 2>&1 || fail "cr_info failed: $(cat info.out)"
pos=$(awk '$1 == 1 && $2 == "file" { for (i = 3; i < NF; i++) if ($i == "pos") print $(i + 1) }' info.out)
[ -n "$pos" ] && truncate -s "$pos" out
timeout 60 cr_restart ctx.img > restart.out 2>&1 || fail "cr_restart failed: $(cat restart.out)"
cmp -s ref out || { diff ref out | head; fail "the restarted run's output differs from an uninterrupted run"; }
echo "restart: same output as an uninterrupted run"
# a BLCR program builds against slurm-cr-dev, found by pkg-config, and finds libcr.so.0
printf '#include <libcr.h>\nint main(void) { return cr_init() < 0; }\n' > blcr.c
cc -o blcr blcr.c $(pkg-config --cflags --libs slurm-cr) > cc.out 2>&1 || fail "a BLCR program does not build with slurm-cr-dev: $(cat cc.out)"
ldd ./blcr | grep -q 'libcr.so.0 => /.*/x86_64-linux-gnu/libcr.so.0' || fail "the BLCR program does not find libcr.so.0: $(ldd ./blcr)"
echo "slurm-cr-dev: a BLCR program builds and links"
man -w cr_checkpoint | grep -q '/usr/share/man/man1/cr_checkpoint.1' || fail "man does not find cr_checkpoint(1)"
MANPAGER=cat man cr_checkpoint 2>/dev/null | grep -q 'cr_checkpoint' || fail "man cr_checkpoint shows nothing"
man -w scontrol-cr > /dev/null || fail "man does not find scontrol-cr(1)"
[ "$(readlink -f "$(command -v scontrol)")" = /usr/bin/scontrol-cr ] || fail "scontrol in PATH is not scontrol-cr: $(command -v scontrol)"
scontrol checkpoint --help > sc_help.out 2>&1 || fail "scontrol checkpoint --help failed: $(cat sc_help.out)"
grep -q 'Operations (as scontrol had them' sc_help.out || fail "scontrol checkpoint --help is not scontrol-cr's: $(cat sc_help.out)"
scontrol checkpoint bogus 1 > sc_bad.out 2>&1 && fail "scontrol checkpoint bogus 1 succeeded"
grep -q 'Invalid checkpoint operation: bogus' sc_bad.out || fail "scontrol checkpoint bogus: $(cat sc_bad.out)"
timeout 120 scontrol checkpoint able 1 > sc_able.out 2>&1 && fail "scontrol checkpoint able 1 succeeded with no slurmctld"
grep -q '^scontrol: error: ' sc_able.out || fail "scontrol checkpoint able gave no error of its own: $(cat sc_able.out)"
# every other command: the same output and status as Slurm's scontrol itself
distrib() { bash -c 'exec -a scontrol /usr/bin/scontrol.distrib "$@"' scontrol "$@"; }
real=$(distrib --version)
case $real in slurm*" "[0-9]*) ;; *) fail "Slurm's scontrol --version says: $real" ;; esac
scontrol --version | grep -qxF "$real" || fail "scontrol --version does not reach Slurm's scontrol ($real): $(scontrol --version)"
for c in "show hostnames n[1-3]" "bogus_keyword"; do
    a=0; scontrol $c > sc_other.out 2>&1 || a=$?
    b=0; distrib $c > sc_other.ref 2>&1 || b=$?
    [ $a = $b ] && cmp -s sc_other.out sc_other.ref || fail "scontrol $c is not Slurm's ($a, $b): $(diff sc_other.ref sc_other.out)"
done
echo "scontrol: checkpoint to scontrol-cr, the rest to $real"
# Slurm loads the plugin through plugstack.conf.d: srun shows its options
srun --help > srun_help.out 2>&1 || fail "srun --help failed: $(tail -n 5 srun_help.out)"
grep -q -- '--checkpoint-dir=dir' srun_help.out || fail "srun --help shows no option of the SPANK plugin"
echo "srun: the SPANK plugin's options are there"
echo SMOKE-OK
EOF
chroot "$C" chown crpkg: /home/crpkg/smoke.sh
within 300 chroot "$C" su -l crpkg -c 'sh ~/smoke.sh' > "$T/smoke.log" 2>&1
cat "$T/smoke.log"
[ -s "$C/home/crpkg/smoke.err" ] && { echo "--- smoke.err"; cat "$C/home/crpkg/smoke.err"; }
grep -qx SMOKE-OK "$T/smoke.log" || fail "the smoke test in the chroot failed (its files: $T/chroot-home)"

# ---- removed, /usr/bin/scontrol is Slurm's again ----
say "removing the packages"
apt_in remove slurm-cr-spank slurm-cr-dev slurm-cr >> "$T/apt.log" 2>&1 || fail "apt-get remove failed (log: $T/apt.log)"
inc dpkg-divert --list | grep -q scontrol && fail "the diversion of scontrol is still there after removal"
[ -x "$C/usr/bin/scontrol" ] && [ ! -L "$C/usr/bin/scontrol" ] && [ ! -e "$C/usr/bin/scontrol.distrib" ] ||
    fail "/usr/bin/scontrol is not Slurm's again after removal"
inc /usr/bin/scontrol --version | grep -q "^slurm" || fail "Slurm's scontrol does not run after removal"
# the snippet is a conffile and stays until purge; "optional" keeps srun working
[ -f "$C/etc/slurm/plugstack.conf.d/slurm-cr.conf" ] || fail "the plugstack.conf.d snippet went with remove (a conffile stays until purge)"
inc su -l crpkg -c 'srun --help' > "$T/srun_removed.log" 2>&1 || fail "srun fails once the plugin is removed: $(tail -n 5 "$T/srun_removed.log")"
apt_in purge slurm-cr-spank >> "$T/apt.log" 2>&1 || fail "apt-get purge failed (log: $T/apt.log)"
[ -e "$C/etc/slurm/plugstack.conf.d/slurm-cr.conf" ] && fail "purge left the plugstack.conf.d snippet"

# the other order: slurm-cr first, Slurm's client after it goes to scontrol.distrib
say "slurm-cr before slurm-client"
apt_in remove slurm-client >> "$T/apt.log" 2>&1 || fail "apt-get remove slurm-client failed (log: $T/apt.log)"
apt_in install --no-install-recommends "/tmp/debs/$(basename "$(echo $DEBS | cut -d' ' -f1)")" >> "$T/apt.log" 2>&1 ||
    fail "slurm-cr does not install without slurm-client (log: $T/apt.log)"
inc scontrol --version > "$T/no_client.log" 2>&1 && fail "scontrol --version succeeded with no Slurm client"
grep -q 'is not installed (Debian: slurm-client)' "$T/no_client.log" || fail "scontrol without slurm-client: $(cat "$T/no_client.log")"
apt_in install --no-install-recommends slurm-client >> "$T/apt.log" 2>&1 || fail "slurm-client does not install after slurm-cr (log: $T/apt.log)"
[ -x "$C/usr/bin/scontrol.distrib" ] && [ "$(readlink "$C/usr/bin/scontrol")" = scontrol-cr ] ||
    fail "slurm-client installed after slurm-cr did not go to /usr/bin/scontrol.distrib"
inc scontrol --version | grep -q "^slurm" || fail "scontrol --version does not reach Slurm's scontrol installed after slurm-cr"
say "done"
pass
