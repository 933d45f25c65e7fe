#!/bin/sh
# Checkpoint/restart benchmark (not a test).  For processes with 256 MiB, 1 GiB and
# 4 GiB of touched memory it prints: the application's downtime during a checkpoint
# (with the default copy-on-write snapshot, and with --no-cow, stopped until written),
# the checkpoint's bandwidth next to dd's raw write bandwidth on the same filesystem
# (with and without fsync, same bytes, same run), the image size, and the time for a
# restart until the program runs again.  Then the same downtimes for a process tree:
# a shell whose child holds the memory (all of the tree stops together).
# Usage: bench/checkpoint.sh [DIR [SIZES_MIB...]]   (run from the build directory)
set -eu
B=${top_builddir:-$(pwd)}
DIR=${1:-/var/tmp}
shift 2>/dev/null || true
SIZES=${*:-256 1024 4096}
export CR_RUN_LIB=${CR_RUN_LIB:-$B/libcr/.libs/libcr_run.so}
W=$(mktemp -d "$DIR/slurm-cr-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc -l; }
mbps() { echo "scale=0; $1 / 1048576 / $2" | bc -l; }
for fd in $(ls /proc/$$/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null || true; done

printf '%-8s %9s %9s %9s %9s %9s %9s %9s %9s\n' size down_cow down_stop cow_MB/s stop_MB/s \
    dd_MB/s ddsync_MB/s image_MiB restart_s
# checkpoint MIB [OPTIONS]: runs memtouch, checkpoints it; sets stall (s), bw (MB/s), size
checkpoint() {
    local mib=$1; shift
    rm -f "$W/out" # the last run's "ready" must not count
    "$B/util/cr_run" "$B/bench/memtouch" "$mib" > "$W/out" &
    local pid=$!
    until grep -q ready "$W/out" 2>/dev/null; do sleep 0.05; done
    until grep -q "@slurm-cr/$pid\." /proc/net/unix; do sleep 0.05; done
    rm -f "$W/ctx"
    local t0 t1; t0=$(now); "$B/util/cr_checkpoint" "$@" -f "$W/ctx" "$pid"; t1=$(now)
    kill -TERM "$pid"; wait "$pid" || true
    stall=$(echo "$(sed -n 's/max_stall_us //p' "$W/out") / 1000000" | bc -l)
    size=$(stat -c %s "$W/ctx")
    bw=$(mbps "$size" "$(secs "$t0" "$t1")")
}
for mib in $SIZES; do
    t0=$(now); dd if=/dev/zero of="$W/raw" bs=1M count="$mib" status=none; t1=$(now)
    rm -f "$W/raw"
    t2=$(now); dd if=/dev/zero of="$W/raw" bs=1M count="$mib" conv=fsync status=none; t3=$(now)
    rm -f "$W/raw"
    checkpoint "$mib" --no-cow
    stall_stop=$stall bw_stop=$bw
    checkpoint "$mib"
    sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
    t6=$(now)
    "$B/util/cr_restart" "$W/ctx" > "$W/out2" &
    r=$!
    while :; do
        c=$(cat /proc/$r/task/$r/children 2>/dev/null | awk '{print $1}')
        [ -n "$c" ] && grep -q "@slurm-cr/$c\." /proc/net/unix && break
        sleep 0.01
    done
    t7=$(now)
    kill -TERM "$c"; wait "$r" || true
    rm -f "$W/ctx"
    printf '%-8s %9.3f %9.3f %9s %9s %9s %9s %9s %9.3f\n' "${mib}MiB" "$stall" "$stall_stop" "$bw" \
        "$bw_stop" "$(mbps $((mib << 20)) "$(secs "$t0" "$t1")")" \
        "$(mbps $((mib << 20)) "$(secs "$t2" "$t3")")" "$((size >> 20))" "$(secs "$t6" "$t7")"
done

# the same for a tree: a shell and its child holding the memory
printf '\n%-8s %9s %9s %9s %9s\n' tree down_cow down_stop cow_MB/s stop_MB/s
checkpoint_tree() {
    local mib=$1; shift
    rm -f "$W/out"
    "$B/util/cr_run" sh -c "'$B/bench/memtouch' $mib; true" > "$W/out" &
    local pid=$! child=
    until grep -q ready "$W/out" 2>/dev/null; do sleep 0.05; done
    until child=$(cat /proc/$pid/task/$pid/children 2>/dev/null | awk '{print $1}'); [ -n "$child" ] &&
          grep -q "@slurm-cr/$child\." /proc/net/unix; do sleep 0.05; done
    rm -f "$W/ctx"
    local t0 t1; t0=$(now); "$B/util/cr_checkpoint" "$@" -f "$W/ctx" "$pid"; t1=$(now)
    kill -TERM "$child"; wait "$pid" || true
    stall=$(echo "$(sed -n 's/max_stall_us //p' "$W/out") / 1000000" | bc -l)
    size=$(stat -c %s "$W/ctx")
    bw=$(mbps "$size" "$(secs "$t0" "$t1")")
    rm -f "$W/ctx"
}
for mib in $SIZES; do
    checkpoint_tree "$mib" --no-cow
    stall_stop=$stall bw_stop=$bw
    checkpoint_tree "$mib"
    printf '%-8s %9.3f %9.3f %9s %9s\n' "${mib}MiB" "$stall" "$stall_stop" "$bw" "$bw_stop"
done
