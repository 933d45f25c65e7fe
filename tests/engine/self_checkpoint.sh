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
pass
