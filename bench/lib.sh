# Shared by the benchmarks (sourced).
# close_inherited: the descriptors above 2 this shell was given are closed (the runtime
# cannot save pipes that lead to a launcher it does not know), but not the one bash
# reads its script from (255).  (dash keeps fds of its own above 9: the benchmarks
# run under bash.)
close_inherited() {
    _self=$(readlink -f "$0")
    for _fd in $(ls /proc/$$/fd); do
        [ "$_fd" -gt 2 ] || continue
        [ "$(readlink -f "/proc/$$/fd/$_fd" 2>/dev/null)" = "$_self" ] && continue
        eval "exec $_fd>&-" 2>/dev/null || true
    done
}
