# The options of BLCR's cr_checkpoint and cr_restart (REFERENCE.md, BLCR 0.8's man
# pages) that the other tests/blcr scripts do not drive, used as a BLCR script would,
# each with its documented effect:
#   cr_checkpoint --cwd / -c, --file=, --fd=, --atomic, --time=, --verbose,
#     --kmsg-error, --cont, --signal=, --early-abrt, --save-private, --save-shared,
#     --save-none;
#   cr_restart --file=, --fd=, --signal=, --early-abrt, --no-restore-pid,
#     --run-on-fail-args, --run-on-fail-perm, --run-on-fail-temp;
#   cr_run --run (undoes an --omit given before it).
. "$top_srcdir/tests/engine/lib.sh"
cd "$T"
state() { awk '{print $3}' "/proc/$1/stat" 2>/dev/null; }
# start: a process under cr_run that waits (sleep), in $P
start() {
    "$CR_RUN" sleep 600 < /dev/null > /dev/null 2>&1 &
    P=$!
    track $P
    wait_runtime $P
}
# wait_status PID: its wait status as the shell gives it, in $st (never in $(...): a
# subshell is not the process's parent, and knows its status only if this shell had
# reaped it before the subshell was made)
wait_status() { st=0; wait "$1" || st=$?; }

python3 -c 'import mmap' 2>/dev/null || skip "no python3 (a handler of SIGCONT, a shared mapping)"
start
first=$P
# --cwd and -c: context.PID in the current directory
mkdir here
(cd here && within 60 "$CR_CHECKPOINT" --cwd $P) || fail "--cwd failed"
"$CR_INFO" -q "here/context.$P" || fail "--cwd did not write here/context.$P"
rm "here/context.$P"
(cd here && within 60 "$CR_CHECKPOINT" -c $P) || fail "-c failed"
"$CR_INFO" -q "here/context.$P" || fail "-c did not write here/context.$P"
# --file= and --atomic: a second checkpoint replaces the file whole (a new inode), no .tmp
within 60 "$CR_CHECKPOINT" --atomic --file=a.ctx $P || fail "--atomic --file= failed"
ino=$(stat -c %i a.ctx)
within 60 "$CR_CHECKPOINT" --atomic --file=a.ctx --time=30 --kmsg-error $P 2> a.err || fail "--atomic again failed"
[ "$(stat -c %i a.ctx)" != "$ino" ] || fail "--atomic wrote over the old file in place"
[ ! -s a.err ] || fail "--kmsg-error said something on success: $(cat a.err)"
[ ! -e a.ctx.tmp ] || fail "--atomic left a.ctx.tmp"
"$CR_INFO" -q a.ctx || fail "--atomic wrote an invalid file"
# --fd=
within 60 "$CR_CHECKPOINT" --fd=7 $P 7> fd.ctx || fail "--fd= failed"
"$CR_INFO" -q fd.ctx || fail "--fd=7 wrote an invalid file"
# --verbose says what was written
within 60 "$CR_CHECKPOINT" --verbose -f v.ctx $P > v.out 2>&1 || fail "--verbose failed"
grep -q "v.ctx" v.out || fail "--verbose did not name the file: $(cat v.out)"
# --save-private: the private file mappings (libc) whole; --save-none: nothing whole
within 60 "$CR_CHECKPOINT" --save-private -f sp.ctx $P || fail "--save-private failed"
"$CR_INFO" sp.ctx | grep -q "libc.so.6 (whole)" || fail "--save-private: libc is not saved whole"
within 60 "$CR_CHECKPOINT" --save-none -f sn.ctx $P || fail "--save-none failed"
! "$CR_INFO" sn.ctx | grep -q "(whole)" || fail "--save-none saved a file whole: $("$CR_INFO" sn.ctx | grep '(whole)')"
# --cont: SIGCONT once saved, which its handler sees.  A stopped process is saved as
# BLCR saved it (stopped meanwhile, tests/engine/job_stopped.sh), then --cont
# continues it: its handler sees that one SIGCONT
"$CR_RUN" python3 -c '
import signal, sys, time
out = open(sys.argv[1], "a", buffering=1)
signal.signal(signal.SIGCONT, lambda s, f: out.write("cont\n"))
out.write("up\n")
while True:
    time.sleep(0.1)' "$T/cont.out" < /dev/null > /dev/null 2>&1 &
B=$!
track $B
wait_lines cont.out 1
wait_runtime $B
kill -STOP $B
i=0; until [ "$(state $B)" = T ]; do i=$((i + 1)); [ $i -le 600 ] || fail "the process did not stop"; sleep 0.05; done
within 60 "$CR_CHECKPOINT" --cont -f c.ctx $B || fail "--cont of a stopped process failed"
wait_lines cont.out 2 # (its handler saw that SIGCONT)
[ "$(tail -n 1 cont.out)" = cont ] || fail "--cont of a stopped process: $(cat cont.out)"
"$CR_INFO" c.ctx | grep -q "stopped at the checkpoint" || fail "c.ctx does not say it was stopped"
within 60 "$CR_CHECKPOINT" --cont -f c.ctx $B || fail "--cont failed"
wait_lines cont.out 3
[ "$(tail -n 1 cont.out)" = cont ] || fail "--cont sent no SIGCONT: $(cat cont.out)"
kill -KILL $B
# --signal=NAME: sent once saved (SIGUSR1 ends sleep)
within 60 "$CR_CHECKPOINT" --signal=USR1 -f s.ctx $P || fail "--signal=USR1 failed"
wait_status $P
[ "$st" = $((128 + 10)) ] || fail "--signal=USR1 did not end the process with SIGUSR1 (wait status $st)"
"$CR_INFO" -q s.ctx || fail "--signal=USR1 wrote an invalid file"
# --early-abrt: SIGABRT, and the file is whole
start
within 60 "$CR_CHECKPOINT" --early-abrt -f e.ctx $P || fail "--early-abrt failed"
wait_status $P
[ "$st" = $((128 + 6)) ] || fail "--early-abrt did not end the process with SIGABRT (wait status $st)"
"$CR_INFO" -q e.ctx || fail "--early-abrt wrote an invalid file"

# --save-shared: a shared file mapping whole (and not the private ones)
printf 'shared data\n' > shared.dat
"$CR_RUN" python3 -c '
import mmap, sys, time
f = open(sys.argv[1], "r+b")
m = mmap.mmap(f.fileno(), 0, mmap.MAP_SHARED)
print("mapped", flush=True)
time.sleep(600)' "$T/shared.dat" > py.out 2> py.err < /dev/null &
Q=$!
track $Q
wait_lines py.out 1 60
wait_runtime $Q
within 60 "$CR_CHECKPOINT" --save-shared --kill -f sh.ctx $Q || fail "--save-shared failed: $(cat py.err)"
wait_gone $Q
"$CR_INFO" sh.ctx | grep -q "$T/shared.dat (whole)" || fail "--save-shared: the shared mapping is not saved whole"
! "$CR_INFO" sh.ctx | grep -q "libc.so.6 (whole)" || fail "--save-shared saved a private mapping whole"

# cr_restart's long forms: --file=, --fd=, --signal=, --early-abrt
rc=0; within 60 "$CR_RESTART" --file=a.ctx --signal=15 2> r1.err || rc=$?
[ $rc = 143 ] || fail "cr_restart --file= --signal=15: status $rc, expected 143: $(cat r1.err)"
rc=0; within 60 "$CR_RESTART" --fd=7 --early-abrt 7< a.ctx 2> r2.err || rc=$?
[ $rc = 134 ] || fail "cr_restart --fd=7 --early-abrt: status $rc, expected 134: $(cat r2.err)"
# --no-restore-pid: a plain child of cr_restart with a new pid
"$CR_RESTART" --no-restore-pid --stop a.ctx 2> r3.err &
RS=$!
track $RS
i=0; until C=$(awk '{print $1}' /proc/$RS/task/$RS/children 2>/dev/null) && [ -n "$C" ] && [ "$(state "$C")" = T ]; do
    i=$((i + 1)); [ $i -le 600 ] || fail "--no-restore-pid --stop: no stopped child: $(cat r3.err)"; sleep 0.05
done
[ "$C" != "$first" ] || fail "--no-restore-pid: the old pid $first"
[ "$(awk '/^NSpid:/ {print NF}' /proc/$C/status)" = 2 ] || fail "--no-restore-pid: the process is in a pid namespace of its own"
kill -KILL $RS $C
wait $RS 2>/dev/null

# the failure hooks: run (with sh -c) in place of failing, CR_RESTART_ERRNO set
rc=0; within 60 "$CR_RESTART" --run-on-fail-args='echo args $CR_RESTART_ERRNO > hook' --frobnicate a.ctx 2> /dev/null || rc=$?
[ $rc = 0 ] && [ "$(cat hook)" = "args 22" ] || fail "--run-on-fail-args: status $rc, hook '$(cat hook 2>/dev/null)'"
rm -f hook
cp a.ctx bad.ctx
printf '\377' | dd of=bad.ctx bs=1 seek=300 conv=notrunc 2>/dev/null
rc=0; within 60 "$CR_RESTART" --run-on-fail-perm='echo perm $CR_RESTART_ERRNO > hook' bad.ctx 2> /dev/null || rc=$?
[ $rc = 0 ] && [ "$(cat hook)" = "perm 74" ] || fail "--run-on-fail-perm: status $rc, hook '$(cat hook 2>/dev/null)'"
rm -f hook
# cr_run --omit --run: --run undoes the --omit, the process is checkpointed
"$CR_RUN" --omit --run sleep 600 < /dev/null > /dev/null 2>&1 &
O=$!
track $O
wait_runtime $O
within 60 "$CR_CHECKPOINT" --kill -f o.ctx $O 2> o.err || fail "cr_run --omit --run: the checkpoint failed: $(cat o.err)"
"$CR_INFO" -q o.ctx || fail "cr_run --omit --run: an invalid file"
wait_gone $O

# a temporary failure: no address space left for the memory (RLIMIT_AS)
"$CR_RUN" "$PROGS/heapsum" 64 100000 100 < /dev/null > /dev/null 2>&1 &
P=$!
track $P
wait_runtime $P
# the runtime is up before main() runs: the limit is half the size once the heap is there
# (half of a size read earlier left cr_restart too little to load libc)
mem=0
for i in $(seq 600); do
    mem=$(awk '/^VmSize:/ {print $2}' /proc/$P/status)
    [ "$mem" -gt $((64 * 1024)) ] && break
    sleep 0.1
done
[ "$mem" -gt $((64 * 1024)) ] || fail "heapsum never grew to 64 MiB (VmSize $mem kB)"
within 60 "$CR_CHECKPOINT" --kill -f big.ctx $P || fail "checkpoint for --run-on-fail-temp failed"
wait_gone $P
rc=0; (ulimit -v $((mem / 2)); within 60 "$CR_RESTART" --run-on-fail-temp='echo temp $CR_RESTART_ERRNO > hook' big.ctx 2> t.err) || rc=$?
[ $rc = 0 ] && [ "$(cat hook 2>/dev/null)" = "temp 12" ] || fail "--run-on-fail-temp: status $rc, hook '$(cat hook 2>/dev/null)': $(cat t.err)"
pass
