# The regions' VmFlags are read before the freeze (a copy-on-write checkpoint's and
# a pre-copy's: smaps out of the stop), and taken frozen only when nothing could
# have changed them since: advice given after that read (here by a thread-context
# callback, which runs once the read is done) is in the image.
. "$top_srcdir/tests/engine/lib.sh"
cd "$T"
PROG=$top_builddir/tests/programs/advise_late
for mode in no always; do
    bg "$CR_RUN" "$PROG" > out.$mode 2> err.$mode
    pid=$!
    wait_runtime $pid
    wait_lines out.$mode 1
    addr=$(sed -n 's/^region //p' out.$mode)
    [ -n "$addr" ] || fail "the program gave no region: $(cat out.$mode err.$mode)"
    CR_PRECOPY=$mode within 60 "$CR_CHECKPOINT" -v -f m.$mode.ctx $pid 2> ckpt.$mode.err ||
        fail "checkpoint (CR_PRECOPY=$mode) failed: $(cat ckpt.$mode.err)"
    kill -TERM $pid
    wait_gone $pid
    line=$("$CR_INFO" m.$mode.ctx | awk -v a="$addr" 'index($1, a "-") == 1')
    [ -n "$line" ] || fail "CR_PRECOPY=$mode: no region at $addr in the image"
    case $line in
    *"advised nohugepage"*) ;;
    *) fail "CR_PRECOPY=$mode: the advice given after the VmFlags were read is not in the image: $line" ;;
    esac
done
pass
