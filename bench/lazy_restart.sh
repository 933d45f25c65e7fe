#!/bin/bash
# Lazy restart benchmark (not a test).  For processes holding SIZE MiB of random data
# (default 16 256 1024) it prints, from the same run:
#   read       dd of the image to /dev/null from the page cache (the same bytes)
#   eager      cr_restart --eager until the program runs again (image in the page cache)
#   lazy       cr_restart --lazy until it runs again
#   e_pass     the eagerly restarted program's first full pass over its memory
#   l_pass     the same after a lazy restart (its pages come in on demand and from
#              the background copy meanwhile, by the filling threads)
#   l_pass1    the same with the monitor alone copying (CR_RESTART_LAZY_READERS=0)
#   alloc      a fresh process having the kernel allocate as much memory
#              (MADV_POPULATE_WRITE): the least a restart that puts pages in can cost
#   eager_cold, lazy_cold: the restarts after drop_caches
# and the ratios lazy/read, l_pass/read, l_pass1/read and alloc/read.  BENCH_NO_COLD=1 leaves out
# the cold restarts (drop_caches empties every user's page cache).  Lazy restart needs CAP_SYS_PTRACE: run as
# root.  Usage: bench/lazy_restart.sh [DIR [SIZES_MIB...]]   (from the build directory)
set -eu
B=${top_builddir:-$(pwd)}
DIR=${1:-/var/tmp}
shift 2>/dev/null || true
SIZES=${*:-16 256 1024}
export CR_RUN_LIB=${CR_RUN_LIB:-$B/libcr/.libs/libcr_run.so}
[ "$(id -u)" = 0 ] || { echo "bench: lazy restart needs CAP_SYS_PTRACE: run as root" >&2; exit 1; }
W=$(mktemp -d "$DIR/slurm-cr-lazy-bench.XXXXXX")
c= r=
trap 'for p in $(jobs -p) $c $r; do kill -9 $p 2>/dev/null || true; done; rm -rf "$W"' EXIT
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc -l; }
# CMD... with no fd of ours above 2 (the runtime cannot save pipes it does not know;
# closed in a subshell: one of them is the script the shell reads; bash: dash has no
# redirection of fds above 9)
bare() {
    for fd in $(ls /proc/self/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null || true; done
    exec "$@"
}

wait_for() { # FILE PATTERN, 5 minutes at most
    i=0
    until grep -q "$2" "$1" 2>/dev/null; do
        i=$((i + 1)); [ $i -lt 6000 ] || { echo "bench: timed out waiting for '$2' in $1" >&2; exit 1; }
        sleep 0.05
    done
}
# restart OPTION: cr_restart OPTION until the program's runtime answers: $t, $c, $r
restart() {
    truncate -s "$outsz" "$W/out" # (each restored program writes where the saved one was)
    t0=$(now)
    (bare "$B/util/cr_restart" "$1" "$W/ctx" > /dev/null) &
    r=$!
    i=0
    while :; do
        c=$(cat /proc/$r/task/$r/children 2>/dev/null | awk '{print $1}')
        [ -n "$c" ] && grep -q "@slurm-cr/$c\." /proc/net/unix && break
        i=$((i + 1)); [ $i -lt 60000 ] || { echo "bench: the restart never ran" >&2; exit 1; }
        sleep 0.005
    done
    t1=$(now)
    t=$(secs "$t0" "$t1")
}
# pass: the restored program's first pass over its memory, in seconds: $p
pass() {
    n=$(grep -c pass_us "$W/out" || true)
    kill -USR1 "$c"
    i=0
    until [ "$(grep -c pass_us "$W/out")" -gt "$n" ]; do
        i=$((i + 1)); [ $i -lt 6000 ] || { echo "bench: no pass" >&2; exit 1; }
        sleep 0.01
    done
    p=$(echo "$(grep pass_us "$W/out" | tail -1 | sed 's/pass_us \([0-9]*\).*/\1/') / 1000000" | bc -l)
}
end() { kill -TERM "$c"; wait "$r" || true; c= r=; }
cold() { sync; echo 3 > /proc/sys/vm/drop_caches; }

printf '%-6s %8s %8s %8s %8s %8s %8s %8s %10s %10s %9s %9s %9s %10s\n' MiB read eager lazy e_pass l_pass l_pass1 alloc eager_cold lazy_cold lazy/read pass/read pass1/read alloc/read
for mib in $SIZES; do
    rm -f "$W/out" "$W/ctx"
    (bare "$B/util/cr_run" "$B/bench/memtouch" "$mib" random > "$W/out") &
    pid=$!
    wait_for "$W/out" ready
    until grep -q "@slurm-cr/$pid\." /proc/net/unix; do sleep 0.01; done
    "$B/util/cr_checkpoint" --kill -f "$W/ctx" "$pid"
    wait "$pid" 2>/dev/null || true
    outsz=$(stat -c %s "$W/out")
    cat "$W/ctx" > /dev/null
    t0=$(now); dd if="$W/ctx" of=/dev/null bs=1M status=none; t1=$(now)
    rd=$(secs "$t0" "$t1")
    al=$("$B/bench/memtouch" populate "$mib" | sed -n 's/populate_us //p') || true
    [ -n "$al" ] && al=$(echo "$al / 1000000" | bc -l) || al=- # (- before Linux 5.14)
    restart --eager; eager=$t; pass; ep=$p; end
    restart --lazy; lazy=$t; pass; lp=$p; end
    # the same with the monitor alone reading the blocks (no reader threads)
    export CR_RESTART_LAZY_READERS=0
    restart --lazy; pass; lp1=$p; end
    unset CR_RESTART_LAZY_READERS
    ecold=- lcold=-
    if [ "${BENCH_NO_COLD:-0}" != 1 ]; then # (drop_caches: everyone's page cache)
        cold; restart --eager; ecold=$(printf '%.3f' "$t"); end
        cold; restart --lazy; lcold=$(printf '%.3f' "$t"); end
    fi
    printf '%-6s %8.3f %8.3f %8.3f %8.3f %8.3f %8.3f %8s %10s %10s %9.2f %9.2f %9.2f %10s\n' "$mib" "$rd" "$eager" \
        "$lazy" "$ep" "$lp" "$lp1" "$([ "$al" = - ] && echo - || printf '%.3f' "$al")" "$ecold" "$lcold" \
        "$(echo "$lazy / $rd" | bc -l)" "$(echo "$lp / $rd" | bc -l)" "$(echo "$lp1 / $rd" | bc -l)" \
        "$([ "$al" = - ] && echo - || printf '%.2f' "$(echo "$al / $rd" | bc -l)")"
done
