#!/bin/bash
# The bash completion of the tools: options from each tool's own --help (so new ones
# are there), pids for cr_checkpoint, scontrol-cr's checkpoint operations.
. "$top_srcdir/tests/engine/lib.sh"
PATH=$BIN:$top_builddir/scontrol-helpers:$PATH
compopt() { :; }   # (only valid while bash completes for real)
. "$top_srcdir/etc/bash_completion.sh"
complete -p cr_checkpoint | grep -q _slurm_cr_tool || fail "no completion registered for cr_checkpoint"
ask() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); "$(complete -p "$1" | awk '{print $3}')" "$1"; }
ask cr_checkpoint --pip
[ "${COMPREPLY[*]}" = "--pipes=" ] || fail "cr_checkpoint --pip completes to '${COMPREPLY[*]}'"
ask cr_checkpoint --ptraced-s
[ "${COMPREPLY[*]}" = "--ptraced-skip " ] || fail "cr_checkpoint --ptraced-s completes to '${COMPREPLY[*]}'"
ask cr_restart --no-restore-s
[ "${COMPREPLY[*]}" = "--no-restore-sid " ] || fail "cr_restart --no-restore-s completes to '${COMPREPLY[*]}'"
ask cr_run --om
[ "${COMPREPLY[*]}" = "--omit " ] || fail "cr_run --om completes to '${COMPREPLY[*]}'"
sleep 30 & s=$!
track $s
ask cr_checkpoint -f x.ctx "$s"
[ "${COMPREPLY[*]}" = "$s" ] || fail "cr_checkpoint PID completes to '${COMPREPLY[*]}'"
ask cr_restart -S TE
[ "${COMPREPLY[*]}" = "TERM" ] || fail "cr_restart -S TE completes to '${COMPREPLY[*]}'"
ask scontrol-cr checkpoint li
[ "${COMPREPLY[*]}" = "list" ] || fail "scontrol-cr checkpoint li completes to '${COMPREPLY[*]}'"
pass
