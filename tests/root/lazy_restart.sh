# The lazy restart as root, where userfaultfd follows fork (CAP_SYS_PTRACE): the
# checks of tests/engine/lazy_restart.sh that need it.
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (scripts/test runs the tests/root suite as root)"; exit 77; }
. "$top_srcdir/tests/engine/lazy_restart.sh"
