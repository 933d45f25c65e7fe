# inotify: a checkpoint with events not read yet keeps them: the program that goes on
# and the restarted one each find the instance readable and read them; a restart
# whose watched path is gone is refused naming it, before anything is started.
. "$top_srcdir/tests/engine/lib.sh"
PY=${PYTHON3:-python3}
mkdir "$T/a" "$T/b"
cd "$T" # where the dumper looks for the watched directories
cat > "$T/prog.py" <<PYEOF
import ctypes, os, select, signal, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init1(0)
assert libc.inotify_add_watch(fd, b'$T/a', 0x100) == 1   # IN_CREATE
assert libc.inotify_add_watch(fd, b'$T/b', 0x100) == 2
if sys.argv[1] == 'pending':
    open('$T/a/new', 'w').close()
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])
print('ready', flush=True)
signal.sigtimedwait([signal.SIGUSR1], 120)
if sys.argv[1] != 'pending':
    open('$T/b/later', 'w').close()
r, _, _ = select.select([fd], [], [], 20)
data = os.read(fd, 4096) if r else b''
wd, mask, cookie, n = struct.unpack('iIII', data[:16]) if len(data) >= 16 else (0, 0, 0, 0)
name = data[16:16 + n].rstrip(b'\0').decode()
print('event %d %x %s' % (wd, mask, name), flush=True)
PYEOF

# saved with its event, which the program that goes on still reads
bg "$CR_RUN" "$PY" "$T/prog.py" pending > "$T/pending.out"
pid=$!
wait_runtime $pid
wait_lines "$T/pending.out" 1
within 60 "$CR_CHECKPOINT" -f "$T/pending.ctx" $pid || fail "checkpoint with an event waiting"
"$CR_INFO" "$T/pending.ctx" | grep -q "watch 1: mask 0x100 cookie 0  new" ||
    fail "cr_info does not show the queued IN_CREATE of new"
kill -USR1 $pid
wait_lines "$T/pending.out" 2
[ "$(sed -n 2p "$T/pending.out")" = "event 1 100 new" ] ||
    fail "after the checkpoint the program read '$(sed -n 2p "$T/pending.out")', not its IN_CREATE of new"
wait_gone $pid
# and so does the restarted one (its stdout: the same file, at its offset, cut back to
# what it held at the checkpoint)
head -n 1 "$T/pending.out" > "$T/pending.1"
cat "$T/pending.1" > "$T/pending.out"
bg "$CR_RESTART" "$T/pending.ctx"
r=$!
c=$(restored_pid $r)
kill -USR1 $c
wait_lines "$T/pending.out" 2
[ "$(sed -n 2p "$T/pending.out")" = "event 1 100 new" ] ||
    fail "the restarted program read '$(sed -n 2p "$T/pending.out")', not its IN_CREATE of new"
wait $r || fail "the restarted program failed"

# saved with no event waiting; b gone at restart: refused naming it
bg "$CR_RUN" "$PY" "$T/prog.py" quiet > "$T/quiet.out"
pid=$!
wait_runtime $pid
wait_lines "$T/quiet.out" 1
within 60 "$CR_CHECKPOINT" --kill -f "$T/quiet.ctx" $pid || fail "checkpoint with no event waiting"
wait_gone $pid
mv "$T/b" "$T/b.away"
expect_refusal 2 "inotify watch 2 of fd [0-9]+ is on $T/b, which is gone \\(No such file or directory\\).*remove the watch before the checkpoint" \
    "$CR_RESTART" "$T/quiet.ctx"
mv "$T/b.away" "$T/b"
bg "$CR_RESTART" "$T/quiet.ctx"
r=$!
c=$(restored_pid $r)
kill -USR1 $c
wait_lines "$T/quiet.out" 2 # its stdout, the file it wrote to
[ "$(sed -n 2p "$T/quiet.out")" = "event 2 100 later" ] ||
    fail "the restored program read '$(sed -n 2p "$T/quiet.out")', not IN_CREATE of later on watch 2"
pass
