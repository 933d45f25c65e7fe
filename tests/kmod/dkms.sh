#!/bin/bash
# kmod/dkms.conf under real DKMS: in the Debian chroots scripts/kmod-fetch made (Debian 11
# for 5.10, Debian 13 for 6.12: the kernels whose compiler this Debian 12 machine lacks),
# install dkms, then dkms add, build and remove the module for that kernel, and require
# a clean make.log and the right vermagic.  6.1 is built on the host by tests/kmod/boot.sh,
# whose headers are not installed in /lib/modules here, so DKMS is not run for it.
# Run as root. Exit 0 passed, 1 failed, 77 skipped (the reason is printed).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
KMOD_CACHE=${KMOD_CACHE:-/var/tmp/slurm-cr-kmod}
export KMOD_CACHE
skip() { echo "SKIP: kmod/dkms: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (chroot)"
list=$(mktemp)
# (from the cache scripts/install-deps filled, or fetched now)
top_srcdir=$top
. "$top/tests/kmod/lib.sh"
kmod_fetch 5.10 6.12 > "$list" ||
    { rm -f "$list"; echo "FAIL: kmod/dkms: scripts/kmod-fetch could not fetch the kernels' packages"; exit 1; }
# DKMS keeps its state in the chroots (/var/lib/dkms): one run at a time
exec 8> "$KMOD_CACHE/dkms.lock"
flock -w 1800 8 || { echo "FAIL: kmod/dkms: another tests/kmod/dkms.sh held $KMOD_CACHE/dkms.lock for 30 minutes"; exit 1; }
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/kmod/dkms.conf")
pass=0; fail=0
mounted=()
# dkms 2.8 (Debian 11) reads /proc and /dev/fd: the chroot gets a /proc while we run
cleanup() { for m in "${mounted[@]}"; do umount "$m" 2>/dev/null; done; rm -f "$list"; }
trap cleanup EXIT
while read -r series release vmlinuz hdir chroot; do
    [ "$chroot" != - ] || continue
    t0=$(date +%s)
    if ! mountpoint -q "$chroot/proc"; then
        mount -t proc proc "$chroot/proc" && mounted+=("$chroot/proc")
    fi
    if ! chroot "$chroot" dkms --version >/dev/null 2>&1; then
        timeout 600 chroot "$chroot" apt-get install -y -q --no-install-recommends dkms kmod >/dev/null 2>&1 ||
            skip "cannot install dkms in $chroot"
    fi
    src=$chroot/usr/src/slurm-cr-$ver
    # what a run stopped half-way left (dkms 2.8 cannot remove it without its source)
    chroot "$chroot" dkms remove -m slurm-cr -v "$ver" --all >/dev/null 2>&1
    rm -rf "$chroot/var/lib/dkms/slurm-cr" "$src"; mkdir -p "$src"
    cp "$top"/kmod/{Kbuild,Makefile,dkms.conf,*.c,*.h} "$src/"
    log=$(mktemp)
    ok=1
    chroot "$chroot" dkms add -m slurm-cr -v "$ver" > "$log" 2>&1 || ok=0
    timeout 600 chroot "$chroot" dkms build -m slurm-cr -v "$ver" -k "$release" >> "$log" 2>&1 || ok=0
    ko=$(ls "$chroot/var/lib/dkms/slurm-cr/$ver/$release/x86_64/module/crctl.ko"* 2>/dev/null | head -1)
    mlog=$chroot/var/lib/dkms/slurm-cr/$ver/build/make.log
    [ -f "$mlog" ] && cat "$mlog" >> "$log"
    if [ $ok = 1 ] && [ -n "$ko" ]; then
        case "$ko" in *.xz) xz -dc "$ko" > "$log.ko" ;; *.zst) zstd -qdc "$ko" > "$log.ko" ;; *) cp "$ko" "$log.ko" ;; esac
        vm=$(objcopy -O binary --only-section=.modinfo "$log.ko" /dev/stdout | tr '\0' '\n' | sed -n 's/^vermagic=//p')
        case "$vm" in "$release "*) ;; *) ok=0; echo "vermagic '$vm' is not $release" >> "$log" ;; esac
        if grep -E 'WARNING|undefined|error' "$log" | grep -v 'Skipping BTF'; then ok=0; fi
    else
        ok=0
    fi
    chroot "$chroot" dkms remove -m slurm-cr -v "$ver" --all >> "$log" 2>&1
    [ ! -e "$chroot/var/lib/dkms/slurm-cr" ] || { ok=0; echo "dkms remove left /var/lib/dkms/slurm-cr" >> "$log"; }
    echo "---- $release: dkms $(chroot "$chroot" dkms --version 2>/dev/null) in $chroot"
    cat "$log"
    if [ $ok = 1 ]; then echo "PASS: kmod/dkms $release ($(($(date +%s) - t0)) s)"; pass=$((pass + 1))
    else echo "FAIL: kmod/dkms $release"; fail=$((fail + 1)); fi
    rm -f "$log" "$log.ko"; rm -rf "$src"
done < "$list"
[ $((pass + fail)) -gt 0 ] || skip "no kernel needed a Debian chroot (scripts/kmod-fetch: this machine has their compilers)"
echo "$pass passed, $fail failed"
[ $fail = 0 ]
