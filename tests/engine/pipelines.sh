# Pipelines moving much data, checkpointed with --tree --kill at several instants and
# restarted, give exactly the output of an uninterrupted run: data waiting in a pipe,
# a writer blocked on a full pipe, a reader that has not started, sort reading its
# input in parallel.  (A restart once connected the reader and the writer of one pipe
# to two different pipes: a wrong hash, sort 65,536 bytes short, exit status 0.)
. "$top_srcdir/tests/engine/lib.sh"
cd "$T"
awk 'BEGIN { srand(7); for (i = 0; i < 600000; i++) { s = ""; for (j = 0; j < 10; j++) s = s int(rand() * 1000000) " "; print s } }' > D
[ "$(wc -l < D)" = 600000 ] || fail "could not make the test data"

# run_at NAME SECONDS CMD: CMD (a shell string writing out.NAME) under cr_run, checkpointed
# after SECONDS (any instant must do), restarted; out.NAME must equal ref.NAME
run_at() {
    local name=$1 at=$2 cmd=$3
    rm -f "go.$name"
    "$CR_RUN" bash -c "$cmd" < /dev/null > /dev/null 2> "$name.err" &
    local pid=$!
    track $pid
    wait_runtime $pid
    sleep "$at"  # an instant, not a synchronisation: the result may not depend on it
    if within 60 "$CR_CHECKPOINT" --tree --kill -f "$name.ctx" $pid 2> "$name.ckpt.err"; then
        wait_gone $pid
        touch "go.$name"
        within 120 "$CR_RESTART" "$name.ctx" < /dev/null > /dev/null 2> "$name.restart.err" ||
            fail "$name: the restarted pipeline failed: $(cat "$name.restart.err" "$name.err")"
        restarted=$((restarted + 1))
    else
        grep -q "no process" "$name.ckpt.err" || fail "$name: the checkpoint failed: $(cat "$name.ckpt.err")"
        wait $pid # it had finished already
    fi
    same "ref.$name" "out.$name"
}
restarted=0

# the reader waits for go.NAME: at the checkpoint the pipe is full and cat blocked
for f in D D D D D D; do cat $f; done | sha256sum > ref.gated
run_at gated 0.5 "cat D D D D D D | (while [ ! -e go.gated ]; do sleep 0.05; done; sha256sum) > out.gated"

# a three-process chain at several instants
for f in D D D D; do cat $f; done | tr 0-9 a-j | sha256sum > ref.chain
for at in 0.1 0.3 0.6; do run_at chain $at "cat D D D D | tr 0-9 a-j | sha256sum > out.chain"; done

# sort reading in parallel
cat D D D | sort --parallel=2 -S 64M -k7,7n > ref.sort
for at in 0.2 0.5 0.9; do run_at sort $at "cat D D D | sort --parallel=2 -S 64M -k7,7n > out.sort"; done

[ $restarted -ge 3 ] || fail "only $restarted of the runs were checkpointed before they ended"
echo "$restarted pipelines checkpointed mid-run and restarted"
pass
