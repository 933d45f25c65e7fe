# What a restored tree sees of other users: a user's tree (a shell loop that stats a
# root-owned file, with a child in the background) restarted by root comes back with
# its old pids in place when they are free, and in a pid namespace of its own when one
# is taken; either way without a user namespace, so the file still shows as root's
# (in one, it would show as nobody's: the uninterrupted run's output would differ
# silently, as `tar` of system files did).  Restarted by the user, it comes back with
# new pids in place that its programs see as the old ones, and the file shows as root's
# too; asked for the pid namespace (--no-restore-pid), the user needs a user namespace,
# and it says so on stderr (on a terminal, or with --kmsg-warning).
. "$top_srcdir/tests/engine/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root (scripts/test runs the tests/root suite as root)"
U=${TEST_USER:-nobody}
id "$U" >/dev/null 2>&1 || U=nobody
chmod 755 "$T"
mkdir "$T/u" "$T/v" "$T/w" "$T/x" "$T/ref" "$T/img" && chown "$U" "$T/u" "$T/v" "$T/w" "$T/x" "$T/ref" "$T/img"
script='echo $$ > pid; sleep 60 & for i in $(seq 1 40); do echo "$i $(stat -c %u:%g /etc/passwd)"; sleep 0.1; done; kill $!; echo end'
as_user() { setpriv --reuid="$U" --regid="$(id -g "$U")" --clear-groups "$@"; }
(cd "$T/ref" && as_user env PATH=/usr/local/bin:/usr/bin:/bin bash -c "$script" > "$T/ref/out") ||
    fail "the uninterrupted run failed"
grep -q '^1 0:0$' "$T/ref/out" || fail "/etc/passwd is not root's here: $(head -n 1 "$T/ref/out")"
# (a copy the user can read: tests/root/subreaper.py)
cp "$top_srcdir/tests/root/subreaper.py" "$T/" || fail "cannot copy subreaper.py"
cd "$T/u"
as_user env PATH=/usr/local/bin:/usr/bin:/bin python3 "$T/subreaper.py" \
    sh -c "exec '$CR_RUN' bash -c '$script' > '$T/u/out' 2> '$T/u/run.err'" &
reaper=$!
track $reaper
wait_lines "$T/u/out" 5
i=0; until pid=$(cat "$T/u/pid" 2>/dev/null) && [ -n "$pid" ]; do
    i=$((i + 1)); [ $i -le 600 ] || fail "the tree did not start"; sleep 0.05; done
wait_runtime $pid
within 60 setpriv --reuid="$U" --regid="$(id -g "$U")" --clear-groups "$CR_CHECKPOINT" --tree --kill -f "$T/img/u.ctx" $pid || fail "checkpoint --kill of the tree failed"
wait_gone $reaper
cp -a "$T/u/." "$T/v/" && cp -a "$T/u/." "$T/w/" && cp -a "$T/u/." "$T/x/" || fail "cannot copy $T/u"

# root, the pids free: in place
"$CR_RESTART" "$T/img/u.ctx" 2> "$T/a.err" &
a=$!
track $a
wait_lines "$T/u/out" $(($(wc -l < "$T/v/out") + 2))
[ -e /proc/$pid ] || fail "root's restart did not give the tree its old pid $pid: $(cat "$T/a.err")"
# root again while those pids are taken: a pid namespace without a user namespace
within 120 "$CR_RESTART" --relocate "$T/u=$T/v" "$T/img/u.ctx" 2> "$T/b.err" || fail "root's second restart failed: $(cat "$T/b.err")"
grep -q "is in use: the tree gets its old pids in a pid namespace" "$T/b.err" ||
    fail "nothing said of the pid namespace: $(cat "$T/b.err")"
same "$T/ref/out" "$T/v/out"
wait $a || fail "root's restart in place failed: $(cat "$T/a.err")"
same "$T/ref/out" "$T/u/out"
[ ! -s "$T/a.err" ] || fail "root's restart in place said: $(cat "$T/a.err")"

# the user: new pids in place, which its programs see as the old ones (pid_map.c), and
# no user namespace: the file still shows as root's
(cd "$T/w" && within 120 setpriv --reuid="$U" --regid="$(id -g "$U")" --clear-groups "$CR_RESTART" --kmsg-warning --relocate "$T/u=$T/w" "$T/img/u.ctx") 2> "$T/c.err" ||
    fail "the user's restart failed: $(cat "$T/c.err")"
! grep -q "user namespace" "$T/c.err" || fail "the user's restart went into a user namespace: $(cat "$T/c.err")"
same "$T/ref/out" "$T/w/out"
# the user asking for the pid namespace (--no-restore-pid): a user namespace, said on stderr
(cd "$T/x" && within 120 setpriv --reuid="$U" --regid="$(id -g "$U")" --clear-groups "$CR_RESTART" --no-restore-pid --kmsg-warning --relocate "$T/u=$T/x" "$T/img/u.ctx") 2> "$T/d.err" ||
    fail "the user's restart in a pid namespace failed: $(cat "$T/d.err")"
grep -q "without privilege the old pids need a user namespace" "$T/d.err" ||
    fail "the user's restart in a user namespace said nothing of it: $(cat "$T/d.err")"
pass
