#!/bin/bash
# Incremental checkpoint benchmark (not a test; `make bench-incremental`).  For a
# process holding SIZE MiB (default 1024) of random data it prints, one row per case,
# each from one run:
#   case      unchanged: a second checkpoint right after the first, the process
#             waiting; N%: one after the process changed N per cent of its pages
#             (scattered) and read 64 pages from a file (and at the second step mapped
#             4 MiB anew)
#   full      the first checkpoint (--incremental: full, the first of a chain) in
#             seconds, fsync'd, and its image (MiB)
#   incr      the incremental one, seconds and image MiB
#   dd        dd writing as many bytes as the full image, fsync'd; dd_same as many as
#             the incremental one
#   incr/full, incr/dd, incr/dd_same   the ratios
# The machine may be shared: compare ratios within a row.
# Usage: bench/incremental.sh [DIR [SIZES_MIB...]]   (from the build directory)
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@" # (run as `sh FILE`: dash dies when its fd 10 is closed)
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
. "$(dirname "$0")/lib.sh"
close_inherited
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
row() { # CASE MIB FULL_S FULL_BYTES INCR_S INCR_BYTES
    dd=$(dd_sync "$4")
    dds=$(dd_sync "$6")
    printf '%6s %9s %8.3f %6d %8.3f %6d %8.3f %8.3f %9.3f %8.3f %11.2f\n' "$2" "$1" "$3" \
        $(($4 >> 20)) "$5" $(($6 >> 20)) "$dd" "$dds" "$(echo "$5 / $3" | bc -l)" \
        "$(echo "$5 / $dd" | bc -l)" "$(echo "$5 / $dds" | bc -l)"
}
printf '%6s %9s %8s %6s %8s %6s %8s %8s %9s %8s %11s\n' MiB case full MiB incr MiB dd dd_same \
    incr/full incr/dd incr/dd_same
for mib in $SIZES; do
    head -c $(((mib + 8) << 20)) /dev/urandom > "$W/random"
    for pct in 1 10; do
        mkdir -p "$W/steps"
        rm -f "$W"/steps/* "$W"/c.*
        "$B/util/cr_run" "$B/tests/programs/dirtier" "$mib" 3 "$W/steps" $pct > "$W/out" 2> "$W/err" &
        pid=$!
        wait_lines "$W/out" 1
        full=$(ckpt c.1 $pid)
        if [ $pct = 1 ]; then
            unch=$(ckpt c.2 $pid)
            row unchanged "$mib" "$full" "$(stat -c %s "$W/c.1")" "$unch" "$(stat -c %s "$W/c.2")"
        fi
        touch "$W/steps/step.1"
        wait_lines "$W/out" 2
        incr=$(ckpt c.3 $pid)
        touch "$W/steps/step.2"
        wait $pid
        row "$pct%" "$mib" "$full" "$(stat -c %s "$W/c.1")" "$incr" "$(stat -c %s "$W/c.3")"
    done
done
