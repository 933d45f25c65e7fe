# Helpers of the kernel-module tests run on the host (tests/kmod/engine.sh); sourced.

# kmod_build RELEASE HDIR CHROOT OUT: build kmod/ for RELEASE against its headers (on this
# machine, or in the Debian chroot whose compiler the headers name: scripts/kmod-fetch's
# kernels.list), crctl.ko into OUT; the build's output on stdout.
kmod_build() {
    local release=$1 hdir=$2 chroot=$3 out=$4
    mkdir -p "$out" && cp "$top_srcdir"/kmod/{Kbuild,Makefile,*.c,*.h} "$out/" || return 1
    if [ "$chroot" = - ]; then
        timeout 600 make -C "$out" KDIR="$hdir" CC=gcc -j2 || return 1
    else
        local b=$chroot/build.$$
        rm -rf "$b" && mkdir -p "$b" && cp "$out"/* "$b/" || return 1
        timeout 600 chroot "$chroot" make -C "/${b##*/}" KDIR="/usr/src/linux-headers-$release" -j2 &&
            cp "$b/crctl.ko" "$out/"
        local rc=$?
        rm -rf "$b"
        [ $rc = 0 ] || return 1
    fi
    [ -f "$out/crctl.ko" ]
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
