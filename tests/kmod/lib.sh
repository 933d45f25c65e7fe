# Helpers of the kernel-module tests run on the host (tests/kmod/engine.sh); sourced.

# kmod_prepare SERIES...: what the qemu tests need on this machine (installed with
# apt-get when missing) and the kernels' packages (kmod_fetch); the fetched
# kernels' lines ("series release vmlinuz headers-dir chroot-or-dash") in
# $KMOD_LIST.  Says what is wrong and returns 1 when something cannot be had.
kmod_prepare() {
    local need=() c
    command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
    { [ -x /bin/busybox ] && file /bin/busybox 2>/dev/null | grep -q 'statically linked'; } || need+=(busybox-static)
    # (command:package) xz and zstd: the kernels' compressed modules
    for c in cpio:cpio debootstrap:debootstrap file:file xz:xz-utils zstd:zstd; do
        command -v "${c%%:*}" >/dev/null || need+=("${c#*:}")
    done
    if [ ${#need[@]} -gt 0 ]; then
        echo "kmod: installing ${need[*]}"
        timeout 900 env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            "${need[@]}" > "$KMOD_LIST.apt" 2>&1 ||
            { tail -20 "$KMOD_LIST.apt"; echo "kmod: apt-get install ${need[*]} failed"; return 1; }
    fi
    command -v qemu-system-x86_64 >/dev/null || { echo "kmod: qemu-system-x86_64 is not there after apt-get"; return 1; }
    kmod_fetch "$@" > "$KMOD_LIST"
}

# kmod_fetch SERIES...: the kernels' lines of scripts/kmod-fetch on stdout: from the cache
# scripts/install-deps filled before the tests (no network, a second); when it lacks them,
# fetched now (8 minutes on a new machine), saying so; returns 1 saying why if that fails
kmod_fetch() {
    local log
    log=$(mktemp /tmp/kmod-fetch.XXXXXX) || return 1
    if ! timeout 120 "$top_srcdir/scripts/kmod-fetch" --cached "$@" 2> "$log"; then
        echo "kmod: the kernels are not all in the cache ($(tail -1 "$log")): fetching them now" \
             "(scripts/install-deps does it before the tests)" >&2
        if ! timeout 3600 "$top_srcdir/scripts/kmod-fetch" "$@" 2> "$log"; then
            tail -20 "$log" >&2; rm -f "$log"
            echo "kmod: scripts/kmod-fetch could not fetch the kernels' packages (above)" >&2; return 1
        fi
    fi
    rm -f "$log"
}

# kmod_build RELEASE HDIR CHROOT OUT: crctl.ko for RELEASE built against its headers (on
# this machine, or in the Debian chroot whose compiler the headers name), in OUT with
# OUT/build.log.  A build of the same sources against the same headers is taken from
# $KMOD_CACHE/modules/RELEASE/KEY (KEY: a hash of both): what is there was renamed in
# whole, so two tests at once at worst both build.
kmod_build() {
    local release=$1 hdir=$2 chroot=$3 out=$4 key cached tmp rc
    key=$(cat "$top_srcdir"/kmod/{Kbuild,Makefile,*.c,*.h} "$hdir/Module.symvers" "$hdir/.kernelvariables" |
          { sha256sum; echo "$chroot"; } | sha256sum | cut -c1-16)
    cached=$KMOD_CACHE/modules/$release/$key
    mkdir -p "$out" || return 1
    if [ -f "$cached/crctl.ko" ]; then
        cp "$cached/crctl.ko" "$cached/build.log" "$out/" || return 1
        echo "(the build of $(date -r "$cached/crctl.ko" '+%F %T'), $cached)" >> "$out/build.log"
        return 0
    fi
    cp "$top_srcdir"/kmod/{Kbuild,Makefile,*.c,*.h} "$out/" || return 1
    if [ "$chroot" = - ]; then
        timeout 600 make -C "$out" KDIR="$hdir" CC=gcc -j2 > "$out/build.log" 2>&1; rc=$?
    else
        local b=$chroot/build.$$
        rm -rf "$b" && mkdir -p "$b" && cp "$out"/* "$b/" || return 1
        timeout 600 chroot "$chroot" make -C "/${b##*/}" KDIR="/usr/src/linux-headers-$release" -j2 \
            > "$out/build.log" 2>&1 && cp "$b/crctl.ko" "$out/"; rc=$?
        rm -rf "$b"
    fi
    [ $rc = 0 ] && [ -f "$out/crctl.ko" ] || return 1
    tmp=$KMOD_CACHE/modules/$release/.new.$$
    rm -rf "$tmp" && mkdir -p "$tmp" && cp "$out/crctl.ko" "$out/build.log" "$tmp/" &&
        { mv -T "$tmp" "$cached" 2>/dev/null || rm -rf "$tmp"; }
    return 0
}

# kmod_check_build RELEASE HDIR OUT: kmod_build's OUT is clean: no warning of modpost or
# the compiler, every undefined symbol of crctl.ko exported by RELEASE (its
# Module.symvers; each printed with its export line), the vermagic RELEASE's.
kmod_check_build() {
    local release=$1 hdir=$2 out=$3 bad=0 s line vm
    if grep -E 'WARNING|undefined|unresolved|error' "$out/build.log" | grep -v 'Skipping BTF'; then
        echo "FAIL: $release: modpost or the compiler warned"; bad=1
    fi
    echo "---- $release: undefined symbols of crctl.ko and their exports"
    for s in $(nm -u "$out/crctl.ko" | awk '{print $2}'); do
        line=$(awk -v s="$s" '$2 == s {print $1, $2, $3, $4}' "$hdir/Module.symvers")
        if [ -n "$line" ]; then echo "  $line"
        else echo "  $s NOT EXPORTED by $release"; bad=1; fi
    done
    vm=$(objcopy -O binary --only-section=.modinfo "$out/crctl.ko" /dev/stdout | tr '\0' '\n' |
         sed -n 's/^vermagic=//p')
    case "$vm" in "$release "*) ;; *) echo "FAIL: vermagic '$vm' is not $release"; bad=1 ;; esac
    return $bad
}

# kmod_static_tests DIR: tests/kmod/crctl_test.c and crctl_fuzz.c built static in DIR
kmod_static_tests() {
    local t
    for t in crctl_test crctl_fuzz; do
        gcc -static -O2 -Wall -Wextra -Werror -o "$1/$t" "$top_srcdir/tests/kmod/$t.c" ||
            { echo "kmod: cannot build tests/kmod/$t.c"; return 1; }
    done
}

# kmod_ioctl_files INITRD: what tests/kmod/ioctl-guest.sh needs in the initramfs (after
# kmod_static_tests into $W and the module into INITRD)
kmod_ioctl_files() {
    cp "$W/crctl_test" "$W/crctl_fuzz" "$top_srcdir/tests/kmod/ioctl-guest.sh" "$1/" &&
        chmod +x "$1/ioctl-guest.sh"
}

# kmod_fuzz_seconds SERIES: how long the ioctl fuzzer runs on that kernel
# (KMOD_FUZZ_SECONDS, 15 by default; KMOD_FUZZ_LONG, 120, on 6.12)
kmod_fuzz_seconds() {
    if [ "$1" = 6.12 ]; then echo "${KMOD_FUZZ_LONG:-120}"; else echo "${KMOD_FUZZ_SECONDS:-15}"; fi
}

# the KMOD-TEST lines a whole run of ioctl-guest.sh prints: crctl_test.c's 95 checks and
# insmod, fuzz-root, fuzz-user, fuzz-no-file-reference-left, rmmod, unloaded, reload
KMOD_IOCTL_MIN=102
# kmod_ioctl_verdict CONSOLE: "PASS N checks" or "FAIL why" from ioctl-guest.sh's lines
kmod_ioctl_verdict() {
    local p f
    p=$(grep -c '^KMOD-TEST: PASS' "$1"); f=$(grep -c '^KMOD-TEST: FAIL' "$1")
    if ! grep -q '^KMOD-TEST: ioctl checks done' "$1"; then echo "FAIL the ioctl checks did not run to their end ($p passed, $f failed)"
    elif [ "$f" != 0 ]; then echo "FAIL ioctl checks: $p passed, $f failed"
    elif ! grep -q '^KMOD-TEST: PASS fuzz-root ' "$1" || ! grep -q '^KMOD-TEST: PASS fuzz-user ' "$1"; then
        echo "FAIL the fuzzer did not run as root and as uid 1000"
    elif [ "$p" -lt $KMOD_IOCTL_MIN ]; then echo "FAIL only $p ioctl checks passed ($KMOD_IOCTL_MIN expected)"
    else echo "PASS $p ioctl checks"; fi
}

# kmod_console LOG TXT: qemu's serial output without carriage returns and the firmware's
# terminal escapes
kmod_console() {
    tr -d '\r' < "$1" | sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1bc//g' > "$2"
}

# kmod_moddir RELEASE: the kernel's unpacked /lib/modules/RELEASE (Debian 13 has it in /usr)
kmod_moddir() {
    local d
    for d in "$KMOD_CACHE/root/lib/modules/$1" "$KMOD_CACHE/root/usr/lib/modules/$1"; do
        [ -d "$d/kernel" ] && { echo "$d"; return 0; }
    done
    return 1
}

# kmod_collect MODDIR OUT NAME...: NAME's modules and the modules they depend on, from
# MODDIR (unpacked by dpkg-deb: there is no modules.dep), decompressed into OUT, with
# OUT/load.order listing them dependencies first; a module built into the kernel is
# skipped.
kmod_collect() {
    local moddir=$1 out=$2 f n; shift 2
    local -A path=() taken=()
    while read -r f; do
        n=${f##*/}; n=${n%%.ko*}; path[${n//-/_}]=$f
    done < <(find "$moddir/kernel" -name '*.ko*')
    mkdir -p "$out" && : > "$out/load.order" || return 1
    _kmod_add() {
        local m=${1//-/_} d
        [ -z "${taken[$m]:-}" ] || return 0
        if [ -z "${path[$m]:-}" ]; then
            grep -Eq "/($m|$1)\.ko" "$moddir/modules.builtin" 2>/dev/null && return 0
            echo "kmod_collect: no module $1 in $moddir" >&2; return 1
        fi
        taken[$m]=1
        case ${path[$m]} in
        *.xz) xz -dc "${path[$m]}" > "$out/$m.ko" ;;
        *.zst) zstd -qdc "${path[$m]}" > "$out/$m.ko" ;;
        *) cp "${path[$m]}" "$out/$m.ko" ;;
        esac || return 1
        for d in $(objcopy -O binary --only-section=.modinfo "$out/$m.ko" /dev/stdout | tr '\0' '\n' |
                   sed -n 's/^depends=//p' | tr , ' '); do
            _kmod_add "$d" || return 1
        done
        echo "$m" >> "$out/load.order"
    }
    for n in "$@"; do _kmod_add "$n" || return 1; done
}
