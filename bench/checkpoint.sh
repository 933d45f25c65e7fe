#!/bin/bash
# Checkpoint/restart benchmark (not a test; `make bench`).  For processes holding
# SIZE MiB of memory (default 16 256 1024 4096) it prints, each figure from the same
# run as the others in its row:
#   stop      the program's longest stop over the run's checkpoints (the compressed
#             one is copy-on-write: see the stop table below for the pre-copy's)
#   ckpt      checkpoint total (cr_checkpoint, fsync'd), random data
#   dd/ddsync dd writing the same number of bytes, without and with fsync
#   image     image size (MiB)
#   rst_warm  restart until the program runs again, image in the page cache
#   rst_cold  the same after drop_caches (root only; "-" otherwise)
#   pass      the restarted program's first full pass over its memory;
#   read      a read of the image from the page cache (what pass is compared with)
#   z_rnd     --compress of the same random data: time and image MiB
#   dbl/z_dbl compressible data (doubles, zeroed halos): plain and --compress, time
#             and image MiB
#   sp/z_sp   very compressible data (a sparse matrix stored dense): the same
# then the stop table: the stop of a pre-copied checkpoint (the default) and of a
# copy-on-write one (--no-precopy) as the program saw it (its gap between two reads of
# its clock that the freeze fell in; the machine's own delays elsewhere in the run are
# left out) and as the runtime measured it (freeze to release, CR_STOP_TIMES), each
# checkpoint's time and dd with fsync of the same bytes, median of 3
# (BENCH_STOP_ONLY=1 runs only that table; stop.csv);
# then the runtime's overhead without any checkpoint (a system call loop, a Python
# loop, start-up).  The figures also go to bench.csv and, with gnuplot, bench.png
# (time against size) in BENCH_OUT (default: the current directory).
# The machine may be shared: run it more than once and compare ratios within a run.
# Usage: bench/checkpoint.sh [DIR [SIZES_MIB...]]   (run from the build directory)
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@" # (run as `sh FILE`: dash dies when its fd 10 is closed)
set -eu
B=${top_builddir:-$(pwd)}
DIR=${1:-/var/tmp}
shift 2>/dev/null || true
SIZES=${*:-16 256 1024 4096}
OUT=${BENCH_OUT:-$(pwd)}
export CR_RUN_LIB=${CR_RUN_LIB:-$B/libcr/.libs/libcr_run.so}
W=$(mktemp -d "$DIR/slurm-cr-bench.XXXXXX")
c=
trap 'for p in $(jobs -p) $c; do kill -9 $p 2>/dev/null || true; done; rm -rf "$W"' EXIT
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc -l; }
. "$(dirname "$0")/lib.sh"
close_inherited
root=0; [ "$(id -u)" = 0 ] && root=1

# wait_for FILE PATTERN: bounded wait (5 minutes) for a line in FILE
wait_for() {
    i=0
    until grep -q "$2" "$1" 2>/dev/null; do
        i=$((i + 1)); [ $i -lt 6000 ] || { echo "bench: timed out waiting for '$2' in $1" >&2; exit 1; }
        sleep 0.05
    done
}
# wait_runtime PID: until the runtime of PID answers
wait_runtime() {
    i=0
    until grep -q "@slurm-cr/$1\." /proc/net/unix; do
        i=$((i + 1)); [ $i -lt 6000 ] || { echo "bench: no runtime in process $1" >&2; exit 1; }
        sleep 0.01
    done
}
# start MIB KIND: memtouch under cr_run; its pid in $pid
start() {
    rm -f "$W/out"
    "$B/util/cr_run" "$B/bench/memtouch" "$1" "$2" > "$W/out" &
    pid=$!
    wait_for "$W/out" ready
    wait_runtime $pid
}
# ckpt [OPTIONS]: checkpoints $pid to $W/ctx; its time in $t, size in $size
ckpt() {
    rm -f "$W/ctx"
    t0=$(now); "$B/util/cr_checkpoint" "$@" -f "$W/ctx" "$pid"; t1=$(now)
    t=$(secs "$t0" "$t1")
    size=$(stat -c %s "$W/ctx")
}
finish() { kill -TERM "$pid"; wait "$pid" || true; }
# restart: cr_restart $W/ctx until the program runs; its time in $t, the program in $c
restart() {
    rm -f "$W/out2"
    t0=$(now)
    "$B/util/cr_restart" "$W/ctx" > "$W/out2" &
    r=$!
    i=0
    while :; do
        c=$(cat /proc/$r/task/$r/children 2>/dev/null | awk '{print $1}')
        [ -n "$c" ] && grep -q "@slurm-cr/$c\." /proc/net/unix && break
        i=$((i + 1)); [ $i -lt 30000 ] || { echo "bench: the restart never ran" >&2; exit 1; }
        sleep 0.01
    done
    t1=$(now)
    t=$(secs "$t0" "$t1")
}
end_restart() { kill -TERM "$c"; wait "$r" || true; }
mib_of() { echo "scale=1; $1 / 1048576" | bc -l; }
f3() { printf '%.3f' "$1"; }

# The program's longest stop, pre-copied (the default for a process that goes on)
# against copy-on-write (--no-precopy), with each checkpoint's total time and dd with
# fsync of the same bytes: the median and the largest of BENCH_STOP_REPS runs of each
# (default 3), each run's load average and its stop's steps (CR_STOP_TIMES) listed under
# the row (BENCH_STOP_ONLY=1: only this table; BENCH_STOP_KINDS="pc" or "cow": only
# that kind).
median3() { sort -n | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : 0 }'; }
largest() { sort -n | tail -1; }
# freeze_gap: the program's gap (seconds) that the freeze in $W/times fell in, from its
# longest gaps in $W/out; when none of them holds it, the shortest of them (it was
# shorter than that)
freeze_gap() {
    at=$(sed -n 's/.* at=\([0-9]*\).*/\1/p' "$W/times" | tail -1)
    rt=$(sed -n 's/^stop_us total=\([0-9]*\).*/\1/p' "$W/times" | tail -1)
    awk -v at="$at" -v rt="$rt" '$1 == "stall_at_us" {
            if ($2 <= at + rt && $2 + $3 >= at && $3 > hit) hit = $3
            if (!least || $3 < least) least = $3
        } END { printf "%.6f\n", (hit ? hit : least) / 1000000 }' "$W/out"
}
# gap_sides: how much of the program's gap (freeze_gap's) came before the freeze and
# after the release (microseconds: the scheduling of the program around the stop)
gap_sides() {
    local at rt
    at=$(sed -n 's/.* at=\([0-9]*\).*/\1/p' "$W/times" | tail -1)
    rt=$(sed -n 's/^stop_us total=\([0-9]*\).*/\1/p' "$W/times" | tail -1)
    awk -v at="$at" -v rt="$rt" '$1 == "stall_at_us" && $2 <= at + rt && $2 + $3 >= at && $3 > len {
            start = $2; len = $3
        } END { if (len) printf "gap_before_freeze=%d gap_after_release=%d\n", at - start, start + len - at - rt }' "$W/out"
}
stop_table() {
    reps=${BENCH_STOP_REPS:-3} kinds=${BENCH_STOP_KINDS:-pc cow}
    printf '\n%-6s %8s %8s %8s %8s %8s %8s %8s %7s %7s %8s %8s\n' MiB stop_pc rt_pc stop_cow rt_cow ckpt_pc \
        ckpt_cow ddsync pc/dd cow/dd max_pc max_cow
    export CR_STOP_TIMES=$W/times # (the runtime's own measure of each stop)
    echo "size_mib,stop_precopy_s,runtime_stop_precopy_s,stop_cow_s,runtime_stop_cow_s,ckpt_precopy_s,ckpt_cow_s,ddsync_s,max_stop_precopy_s,max_stop_cow_s" > "$W/stop.csv"
    for mib in $SIZES; do
        : > "$W/stops"
        : > "$W/steps"
        for rep in $(seq "$reps"); do
            for how in $kinds; do
                rm -f "$W/times"
                start "$mib" random
                if [ $how = pc ]; then ckpt; else ckpt --no-precopy; fi
                finish
                stall=$(freeze_gap)
                rt=$(echo "$(sed -n 's/^stop_us total=\([0-9]*\).*/\1/p' "$W/times" | tail -1) / 1000000" | bc -l)
                load=$(cut -d' ' -f1 /proc/loadavg)
                echo "$how $stall $t $rt $load" >> "$W/stops"
                echo "  $how load $load $(grep '^stop_us' "$W/times" | tail -1) $(gap_sides)" >> "$W/steps"
                n=$(( (size + 1048575) / 1048576 ))
                rm -f "$W/ctx"
            done
            t0=$(now); dd if=/dev/zero of="$W/raw" bs=1M count="$n" conv=fsync status=none; t1=$(now)
            rm -f "$W/raw"
            echo "dd 0 $(secs "$t0" "$t1")" >> "$W/stops"
        done
        # (a kind left out counts 0)
        col() { awk -v h="$1" -v c="$2" '$1 == h { print $c }' "$W/stops" | median3; }
        top() { { awk -v h="$1" -v c="$2" '$1 == h { print $c }' "$W/stops"; echo 0; } | largest; }
        spc=$(col pc 2) scow=$(col cow 2) cpc=$(col pc 3) ccow=$(col cow 3) dds=$(col dd 3)
        rpc=$(col pc 4) rcow=$(col cow 4) mpc=$(top pc 2) mcow=$(top cow 2)
        printf '%-6s %8.3f %8.3f %8.3f %8.3f %8.3f %8.3f %8.3f %7.2f %7.2f %8.3f %8.3f\n' "$mib" "$spc" "$rpc" "$scow" \
            "$rcow" "$cpc" "$ccow" "$dds" "$(echo "$cpc / $dds" | bc -l)" "$(echo "$ccow / $dds" | bc -l)" "$mpc" "$mcow"
        awk '$1 != "dd" { printf "  %s stop %.3f runtime %.3f ckpt %.2f load %s\n", $1, $2, $4, $3, $5 }' "$W/stops"
        cat "$W/steps"
        echo "$mib,$(f3 "$spc"),$(f3 "$rpc"),$(f3 "$scow"),$(f3 "$rcow"),$(f3 "$cpc"),$(f3 "$ccow"),$(f3 "$dds"),$(f3 "$mpc"),$(f3 "$mcow")" >> "$W/stop.csv"
    done
    cp "$W/stop.csv" "$OUT/stop.csv"
    echo "figures written to $OUT/stop.csv"
}
if [ "${BENCH_STOP_ONLY:-0}" = 1 ]; then
    stop_table
    exit 0
fi

printf '%-6s %7s %7s %7s %7s %7s %8s %8s %7s %7s %15s %15s %15s %15s %15s\n' MiB stop ckpt dd ddsync \
    image rst_warm rst_cold pass read "z_rnd(s,MiB)" "dbl(s,MiB)" "z_dbl(s,MiB)" "sp(s,MiB)" "z_sp(s,MiB)"
echo "size_mib,stop_s,ckpt_s,dd_s,ddsync_s,image_mib,restart_warm_s,restart_cold_s,first_pass_s,read_image_s,z_random_s,z_random_mib,doubles_s,doubles_mib,z_doubles_s,z_doubles_mib,sparse_s,sparse_mib,z_sparse_s,z_sparse_mib" > "$W/bench.csv"
for mib in $SIZES; do
    # random data, the same process: a first checkpoint that only clears the page
    # cache's way (removed), then compressed, then plain (kept for the restarts): the
    # two compared both follow a removed image of the same size
    start "$mib" random
    ckpt
    rm -f "$W/ctx"
    ckpt --compress
    zr=$t zrs=$size
    rm -f "$W/ctx"
    ckpt
    ck=$t img=$size
    finish
    stall=$(echo "$(sed -n 's/max_stall_us //p' "$W/out") / 1000000" | bc -l)
    # dd of the same bytes, same filesystem, same run
    n=$(( (img + 1048575) / 1048576 ))
    t0=$(now); dd if=/dev/zero of="$W/raw" bs=1M count="$n" status=none; t1=$(now)
    rm -f "$W/raw"
    t2=$(now); dd if=/dev/zero of="$W/raw" bs=1M count="$n" conv=fsync status=none; t3=$(now)
    rm -f "$W/raw"
    dd_t=$(secs "$t0" "$t1") dds_t=$(secs "$t2" "$t3")
    # restart from the page cache, then the first pass over the memory
    cat "$W/ctx" > /dev/null
    t0=$(now); cat "$W/ctx" > /dev/null; t1=$(now)
    rd=$(secs "$t0" "$t1")
    restart
    warm=$t
    kill -USR1 "$c" # (it writes to its own stdout again, the file $W/out)
    wait_for "$W/out" pass_us
    pass=$(echo "$(sed -n 's/pass_us \([0-9]*\).*/\1/p' "$W/out") / 1000000" | bc -l)
    end_restart
    cold=-
    if [ $root = 1 ]; then
        sync; echo 3 > /proc/sys/vm/drop_caches
        restart
        cold=$(f3 "$t")
        end_restart
    fi
    rm -f "$W/ctx"
    # compressible data: plain and compressed, same process
    # compressible data: plain then compressed, each after a removed image
    start "$mib" doubles
    ckpt
    dt=$t ds=$size
    rm -f "$W/ctx"
    ckpt --compress
    zt=$t zs=$size
    finish
    start "$mib" sparse
    ckpt
    st=$t ss=$size
    rm -f "$W/ctx"
    ckpt --compress
    zst=$t zss=$size
    finish
    rm -f "$W/ctx"
    printf '%-6s %7.3f %7.3f %7.3f %7.3f %7s %8.3f %8s %7.3f %7.3f %7.3f,%7s %7.3f,%7s %7.3f,%7s %7.3f,%7s %7.3f,%7s\n' \
        "$mib" "$stall" "$ck" "$dd_t" "$dds_t" "$(mib_of "$img")" "$warm" "$cold" "$pass" "$rd" \
        "$zr" "$(mib_of "$zrs")" "$dt" "$(mib_of "$ds")" "$zt" "$(mib_of "$zs")" \
        "$st" "$(mib_of "$ss")" "$zst" "$(mib_of "$zss")"
    echo "$mib,$(f3 "$stall"),$(f3 "$ck"),$(f3 "$dd_t"),$(f3 "$dds_t"),$(mib_of "$img"),$(f3 "$warm"),$cold,$(f3 "$pass"),$(f3 "$rd"),$(f3 "$zr"),$(mib_of "$zrs"),$(f3 "$dt"),$(mib_of "$ds"),$(f3 "$zt"),$(mib_of "$zs"),$(f3 "$st"),$(mib_of "$ss"),$(f3 "$zst"),$(mib_of "$zss")" >> "$W/bench.csv"
done
echo
echo "ratios in the same run: ckpt/ddsync, z_rnd/ckpt (random data, compressed vs not), z_dbl/dbl and"
echo "z_sp/sp (time, size), first pass after restart / read of the image"
awk -F, 'NR > 1 { printf "%-6s ckpt/ddsync %.2f  z_rnd/ckpt %.2f  z_dbl/dbl %.2f, %.2f  z_sp/sp %.2f, %.2f  pass/read %.2f\n",
    $1, $3 / $5, $11 / $3, $15 / $13, $16 / $14, $19 / $17, $20 / $18, ($10 > 0 ? $9 / $10 : 0) }' "$W/bench.csv"

stop_table

# the runtime's cost when nothing is checkpointed: the best of 3 runs each
best() { sort -n | head -1; }
loop_plain=$(for i in 1 2 3; do "$B/bench/memtouch" loop 2000000 | awk '{print $2}'; done | best)
loop_cr=$(for i in 1 2 3; do "$B/util/cr_run" "$B/bench/memtouch" loop 2000000 | awk '{print $2}'; done | best)
echo
printf 'overhead without checkpoint: syscall loop %.3f s plain, %.3f s under cr_run (%.3fx)\n' \
    "$(echo "$loop_plain / 1000000" | bc -l)" "$(echo "$loop_cr / 1000000" | bc -l)" "$(echo "$loop_cr / $loop_plain" | bc -l)"
if command -v python3 > /dev/null; then
    pyloop='import time
t = time.perf_counter(); s = 0
for i in range(2000000): s += i
print(time.perf_counter() - t)'
    py_plain=$(for i in 1 2 3; do python3 -c "$pyloop"; done | best)
    py_cr=$(for i in 1 2 3; do "$B/util/cr_run" python3 -c "$pyloop"; done | best)
    printf 'overhead without checkpoint: Python loop %.3f s plain, %.3f s under cr_run (%.3fx)\n' \
        "$py_plain" "$py_cr" "$(echo "$py_cr / $py_plain" | bc -l)"
fi
t0=$(now); for i in 1 2 3 4 5 6 7 8 9 10; do /bin/true; done; t1=$(now)
t2=$(now); for i in 1 2 3 4 5 6 7 8 9 10; do "$B/util/cr_run" /bin/true; done; t3=$(now)
printf 'start-up: %.1f ms a program plain, %.1f ms under cr_run\n' \
    "$(echo "($t1 - $t0) * 100" | bc -l)" "$(echo "($t3 - $t2) * 100" | bc -l)"

cp "$W/bench.csv" "$OUT/bench.csv"
echo "figures written to $OUT/bench.csv"
if command -v gnuplot > /dev/null; then
    gnuplot <<EOF
set terminal png size 1200,640
set output '$OUT/bench.png'
set datafile separator ','
set key outside right top
set logscale xy
set xlabel 'memory (MiB)'
set ylabel 'seconds'
set title 'slurm-cr: time against size (one run; the machine may be shared)'
plot '$OUT/bench.csv' using 1:3 with linespoints title 'checkpoint', \
     '' using 1:5 with linespoints title 'dd + fsync, same bytes', \
     '' using 1:4 with linespoints title 'dd, same bytes', \
     '' using 1:2 with linespoints title 'longest stop', \
     '' using 1:7 with linespoints title 'restart (warm)', \
     '' using 1:9 with linespoints title 'first pass after restart', \
     '' using 1:11 with linespoints title 'checkpoint --compress, random', \
     '' using 1:15 with linespoints title 'checkpoint --compress, doubles', \
     '' using 1:13 with linespoints title 'checkpoint, doubles', \
     '' using 1:19 with linespoints title 'checkpoint --compress, sparse', \
     '' using 1:17 with linespoints title 'checkpoint, sparse'
EOF
    echo "plot written to $OUT/bench.png"
else
    echo "gnuplot is not installed (scripts/install-deps installs gnuplot-nox): no plot"
fi

# BENCH_TREE=1: the stops of a process tree (a shell whose child holds the memory)
[ "${BENCH_TREE:-0}" = 1 ] || exit 0
printf '\n%-8s %9s %9s\n' tree down_cow down_stop
for mib in $SIZES; do
    for opt in --no-cow --run; do
        rm -f "$W/out"
        "$B/util/cr_run" sh -c "'$B/bench/memtouch' $mib random; true" > "$W/out" &
        p=$!
        wait_for "$W/out" ready
        i=0
        until child=$(cat /proc/$p/task/$p/children 2>/dev/null | awk '{print $1}'); [ -n "$child" ] &&
              grep -q "@slurm-cr/$child\." /proc/net/unix; do
            i=$((i + 1)); [ $i -lt 6000 ] || exit 1; sleep 0.05
        done
        "$B/util/cr_checkpoint" $opt -f "$W/ctx" "$p"
        kill -TERM "$child"; wait "$p" || true
        s=$(echo "$(sed -n 's/max_stall_us //p' "$W/out") / 1000000" | bc -l)
        if [ $opt = --run ]; then s_cow=$s; else s_stop=$s; fi
        rm -f "$W/ctx"
    done
    printf '%-8s %9.3f %9.3f\n' "${mib}MiB" "$s_cow" "$s_stop"
done
