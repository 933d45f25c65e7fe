#!/bin/sh
# Incremental checkpoint benchmark (not a test; `make bench-incremental`).  For a
# process holding SIZE MiB (default 1024) of random data it prints, from one run:
#   full      the first checkpoint (--incremental: full, the first of a chain), fsync'd
#   unch      a second one right after, the process unchanged (waiting)
#   ten       one after the process changed a tenth of its pages (and 4 MiB mapped anew)
#   dd        dd writing as many bytes as the full image, with fsync
#   dd_ten    dd writing as many bytes as the ten per cent image, with fsync
# each with its image size, and the ratios unch/dd, ten/dd and ten/dd_ten.
# The machine may be shared: compare ratios within a run.
# Usage: bench/incremental.sh [DIR [SIZES_MIB...]]   (from the build directory)
set -eu
B=${top_builddir:-$(pwd)}
DIR=${1:-/var/tmp}
shift 2>/dev/null || true
SIZES=${*:-1024}
export CR_RUN_LIB=${CR_RUN_LIB:-$B/libcr/.libs/libcr_run.so}
W=$(mktemp -d "$DIR/slurm-cr-bench-incr.XXXXXX")
trap 'for p in $(jobs -p); do kill -9 $p 2>/dev/null || true; done; rm -rf "$W"' EXIT
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc -l; }
for fd in $(ls /proc/$$/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null || true; done
wait_lines() { # FILE N: bounded (5 minutes)
    i=0
    while [ "$(wc -l < "$1")" -lt "$2" ]; do
        i=$((i + 1)); [ $i -le 6000 ] || { echo "timed out waiting for $1" >&2; exit 1; }
        sleep 0.05
    done
}
ckpt() { # NAME PID: seconds of one --incremental checkpoint
    t0=$(now)
    "$B/util/cr_checkpoint" --incremental -f "$W/$1" "$2" 2> "$W/$1.err" ||
        { cat "$W/$1.err" >&2; exit 1; }
    secs "$t0" "$(now)"
}
dd_sync() { # BYTES: seconds of dd writing them, fsync'd
    rm -f "$W/dd"
    t0=$(now)
    dd if="$W/random" of="$W/dd" bs=1M count=$((($1 + 1048575) / 1048576)) conv=fsync 2>/dev/null
    secs "$t0" "$(now)"
}
printf '%6s %8s %8s %8s %8s %8s %8s %8s %8s %8s %8s %8s\n' MiB full image unch image ten image \
    dd dd_ten unch/dd ten/dd ten/dd_ten
for mib in $SIZES; do
    mkdir -p "$W/steps"
    rm -f "$W"/steps/* "$W"/c.*
    head -c $(((mib + 8) << 20)) /dev/urandom > "$W/random"
    "$B/util/cr_run" "$B/tests/programs/dirtier" "$mib" 3 "$W/steps" > "$W/out" 2> "$W/err" &
    pid=$!
    wait_lines "$W/out" 1
    full=$(ckpt c.1 $pid)
    unch=$(ckpt c.2 $pid)
    touch "$W/steps/step.1"
    wait_lines "$W/out" 2
    ten=$(ckpt c.3 $pid)
    touch "$W/steps/step.2"
    wait $pid
    s1=$(stat -c %s "$W/c.1"); s2=$(stat -c %s "$W/c.2"); s3=$(stat -c %s "$W/c.3")
    dd=$(dd_sync "$s1")
    dd10=$(dd_sync "$s3")
    printf '%6s %8.3f %8d %8.3f %8d %8.3f %8d %8.3f %8.3f %8.3f %8.3f %8.2f\n' "$mib" "$full" \
        $((s1 >> 20)) "$unch" $((s2 >> 20)) "$ten" $((s3 >> 20)) "$dd" "$dd10" \
        "$(echo "$unch / $dd" | bc -l)" "$(echo "$ten / $dd" | bc -l)" "$(echo "$ten / $dd10" | bc -l)"
done
