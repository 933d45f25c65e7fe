#!/bin/bash
# Pipes and terminals that lead outside, beyond stdio (a launcher's pipe on fd 251):
# by default they come back disconnected and cr_checkpoint -v and cr_info say so;
# --pipes=refuse (or CR_PIPES=refuse) refuses naming the fd and harms nothing.  The
# per-fd behaviour after restart is checked by tests/conformance/outside_ends.
. "$top_srcdir/tests/engine/lib.sh"
CONF=$top_builddir/tests/conformance
cd "$T"

# 1. a shell that inherited a pipe on fd 251 checkpoints itself and restarts
cat > script.sh <<SCRIPT
for i in 1 2 3 4 5 6 7 8; do
    echo \$i
    if [ \$i = 4 ]; then "$CR_CHECKPOINT" -f "$T/script.ctx" \$\$ 2> "$T/script.ckpt.err"; echo "status \$?" > "$T/script.status"; fi
done
SCRIPT
seq 1 8 > ref.script
exec 251> >(cat > /dev/null)     # a pipe to a process outside, as launchers leave one
within 60 "$CR_RUN" bash script.sh > out.script 2> script.err || fail "the script failed: $(cat script.err)"
exec 251>&-
[ "$(cat script.status)" = "status 0" ] || fail "the checkpoint of a shell holding fd 251 failed: $(cat script.ckpt.err)"
"$CR_INFO" script.ctx | grep -Eq '^ +251 +outside +w +led outside \(pipe:\[[0-9]+\]\): restored as a pipe end whose reader is gone' ||
    fail "cr_info does not show fd 251 as a disconnected pipe end: $("$CR_INFO" script.ctx | grep -E '^ +251')"
truncate -s "$(fd_pos script.ctx 1)" out.script
within 60 "$CR_RESTART" --kmsg-warning script.ctx 2> script.restart.err || fail "the script's image did not restart: $(cat script.restart.err)"
grep -q "cr_restart: process [0-9]*: fd 251 (pipe:\[[0-9]*\]) leads outside the checkpoint; it comes back as a pipe's write end whose reader is gone" script.restart.err ||
    fail "cr_restart --kmsg-warning does not name fd 251: $(cat script.restart.err)"
same ref.script out.script

# 2. --pipes=refuse and CR_PIPES=refuse refuse, naming the fd; the program goes on;
#    -v says what comes back disconnected
bg "$CR_RUN" "$CONF/outside_ends" < /dev/null > ends.out 2> ends.err
P=$!
wait_runtime $P
wait_lines ends.out 1
grep -qx READY ends.out || fail "outside_ends: $(cat ends.out ends.err)"
expect_refusal 95 "fd 251 is pipe:\[[0-9]+\], which leads outside the process, and --pipes=refuse was given" \
    "$CR_CHECKPOINT" --pipes=refuse -f refused.ctx $P
[ ! -e refused.ctx ] || fail "a refused checkpoint left refused.ctx"
CR_PIPES=refuse expect_refusal 95 "leads outside the process, and --pipes=refuse" "$CR_CHECKPOINT" -f refused.ctx $P
expect_refusal 22 "--pipes=sometimes: want disconnect or refuse" "$CR_CHECKPOINT" --pipes=sometimes -f refused.ctx $P
within 60 "$CR_CHECKPOINT" -v --pipes=disconnect -f ends.ctx $P 2> v.err || fail "cr_checkpoint -v failed: $(cat v.err)"
grep -Eq "process $P: fd 251 \(pipe:\[[0-9]+\]\) leads outside the checkpoint; it comes back as a pipe's read end whose writer is gone" v.err ||
    fail "cr_checkpoint -v does not name fd 251: $(cat v.err)"
grep -Eq "process $P: fd 252 .* pipe's write end whose reader is gone \(EPIPE\)" v.err || fail "cr_checkpoint -v does not name fd 252: $(cat v.err)"
grep -Eq "process $P: fd 253 \(/dev/pts/[0-9]+\) .* hung-up terminal" v.err || fail "cr_checkpoint -v does not name fd 253: $(cat v.err)"
# --kmsg-warning says the same without -v; --kmsg-none keeps -v from saying it
within 60 "$CR_CHECKPOINT" --kmsg-warning -f w.ctx $P 2> w.err || fail "--kmsg-warning failed: $(cat w.err)"
grep -q "fd 252 .* leads outside the checkpoint" w.err || fail "--kmsg-warning does not name fd 252: $(cat w.err)"
within 60 "$CR_CHECKPOINT" -v --kmsg-none -f n.ctx $P 2> n.err || fail "--kmsg-none failed: $(cat n.err)"
! grep -q "leads outside" n.err || fail "--kmsg-none still names the fds: $(cat n.err)"
kill -USR2 $P
wait_gone $P
[ "$(tail -n 1 ends.out)" = PASS ] || fail "the program checkpointed (and refused twice) did not pass: $(cat ends.out)"
pass
