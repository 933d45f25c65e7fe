/* glibc's rseq registration of the main thread: still registered afterwards (the
 * kernel keeps cpu_id up to date, and registering again says EBUSY). */
#include "conf.h"
#include <sys/rseq.h>

int main(void)
{
    if (__rseq_size == 0) { /* glibc did not register (tunable off): nothing to check */
        cf_ready();
        cf_wait();
        cf_pass();
    }
    struct rseq *rs = (struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);
    cf_check((int)rs->cpu_id >= 0, "setup: rseq not registered (cpu_id %d)", (int)rs->cpu_id);
    cf_ready();
    cf_wait();
    cf_check((int)rs->cpu_id >= 0, "rseq cpu_id: expected a CPU (registered), got %d", (int)rs->cpu_id);
    long r = syscall(SYS_rseq, rs, __rseq_size < 32 ? 32 : __rseq_size, 0, RSEQ_SIG);
    cf_check(r < 0 && errno == EBUSY, "registering again: expected EBUSY (already registered), got %s", r == 0 ? "success" : strerror(errno));
    cf_pass();
}
