# Shared by scripts/test and scripts/demo: build slurm-cr from this tree.  As root,
# the build and everything after it run as an unprivileged user (TEST_USER, created
# if needed) in a copy of the tree, so that nothing relies on privilege.
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
TEST_USER=${TEST_USER:-crtest}

# Descriptors inherited from whatever started us (a CI runner's pipes) would be
# inherited by the programs we checkpoint; start clean.
for fd in $(ls /proc/$$/fd); do
    [ "$fd" -gt 2 ] && [ "$fd" != 255 ] && { eval "exec $fd>&-"; } 2>/dev/null || true
done

# as_user CMD: run CMD (a shell string) as the build user, in $WORK
as_user() {
    if [ "$(id -u)" = 0 ]; then
        setpriv --reuid="$TEST_USER" --regid="$TEST_USER" --init-groups \
            env -i HOME="/home/$TEST_USER" PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 \
            sh -c "cd '$WORK' && $1"
    else
        (cd "$WORK" && sh -c "$1")
    fi
}

prepare_work() {
    if [ "$(id -u)" = 0 ]; then
        id "$TEST_USER" >/dev/null 2>&1 || useradd -m -s /bin/sh "$TEST_USER"
        WORK=$(mktemp -d /var/tmp/slurm-cr.XXXXXX)
        # the sources only: a tree built in place (./configure && make) would stop the
        # out-of-tree build ("source directory already configured"); git's list of them
        # in a checkout or a worktree (whose .git is a file)
        if [ -e "$SRC/.git" ] && command -v git >/dev/null; then
            (cd "$SRC" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf -) |
                (cd "$WORK" && tar -xf -)
        else
            (cd "$SRC" && tar --exclude=./build --exclude=.git -cf - .) | (cd "$WORK" && tar -xf -)
        fi
        chown -R "$TEST_USER:" "$WORK"
        chmod 755 "$WORK"
    else
        WORK=$SRC
    fi
}

build() {
    as_user "autoreconf -fi >/dev/null 2>&1 && mkdir -p build && cd build && \
             ../configure -q && make -j$(nproc) >/dev/null"
}
