# A program that checkpoints itself through cr_checkpoint, as BLCR users' scripts do:
# the requester, and the shell between it and its target, are left out of the tree
# they freeze (it froze itself before, forever).  The checkpoint completes, the run
# goes on, and the image restarts where the program was.
. "$top_srcdir/tests/engine/lib.sh"
PY=${PYTHON3:-python3}
cd "$T"

# a shell script checkpointing its own shell ($$)
cat > script.sh <<SCRIPT
for i in 1 2 3 4 5 6 7 8; do
    echo \$i
    if [ \$i = 4 ]; then "$CR_CHECKPOINT" -f "$T/script.ctx" \$\$ 2> "$T/script.ckpt.err"; echo "status \$?" > "$T/script.status"; fi
done
SCRIPT
seq 1 8 > ref.script
within 60 "$CR_RUN" bash script.sh > out.script 2> script.err || fail "the script failed: $(cat script.err script.ckpt.err)"
[ "$(cat script.status)" = "status 0" ] || fail "the self-checkpoint failed: $(cat script.ckpt.err)"
same ref.script out.script
truncate -s "$(fd_pos script.ctx 1)" out.script
within 60 "$CR_RESTART" script.ctx 2> script.restart.err || fail "the script's image did not restart: $(cat script.restart.err)"
same ref.script out.script

# a program calling system("cr_checkpoint ... <its own pid>")
cat > sys.py <<PROGRAM
import os, sys
for i in range(8):
    print(i, flush=True)
    if i == 3:
        rc = os.system("'$CR_CHECKPOINT' -f '$T/sys.ctx' %d 2> '$T/sys.ckpt.err'" % os.getpid())
        open("$T/sys.status", "w").write("status %d\n" % rc)
PROGRAM
within 60 "$PY" -c 'for i in range(8): print(i)' > ref.sys
within 60 "$CR_RUN" "$PY" sys.py > out.sys 2> sys.err || fail "the program failed: $(cat sys.err sys.ckpt.err)"
[ "$(cat sys.status)" = "status 0" ] || fail "system(\"cr_checkpoint ...\") failed: $(cat sys.status sys.ckpt.err)"
same ref.sys out.sys
truncate -s "$(fd_pos sys.ctx 1)" out.sys
within 60 "$CR_RESTART" sys.ctx 2> sys.restart.err || fail "the program's image did not restart: $(cat sys.restart.err)"
same ref.sys out.sys

# a self request (libcr, through the runtime's wake eventfd) in a restored process: the
# runtime's fds are opened again at restart, and its manager thread sleeps meanwhile
# (the program lowers its fd limit, so they do not land where they were)
mkdir self
within 60 "$CR_RUN" "$PROGS/selfagain" "$T/self" > out.self 2> self.err || fail "selfagain failed: $(cat self.err)"
grep -q '^manager ' out.self || fail "selfagain did not finish: $(cat out.self self.err)"
truncate -s "$(fd_pos self/a.ctx 1)" out.self
within 60 "$CR_RESTART" self/a.ctx > self.restart.out 2> self.restart.err ||
    fail "restarted from a.ctx, the second self-checkpoint failed or hung: $(cat self.restart.err)"
[ "$(head -n 4 out.self | tr '\n' ' ')" = "1 2 3 4 " ] || fail "the restarted program's output is wrong: $(cat out.self)"
ticks=$(awk '$1 == "manager" {print $2}' out.self)
[ -n "$ticks" ] && [ "$ticks" -ge 0 ] && [ "$ticks" -lt 10 ] ||
    fail "the restored process's cr-manager thread used $ticks ticks of CPU in half a second (spinning)"
within 60 "$CR_INFO" self/b.ctx > /dev/null || fail "the image written after the restart is not valid"
pass
