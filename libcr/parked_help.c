/* Work shared with the parked threads (parked_help.h).  The manager publishes the
 * work and wakes the parked threads on the futex they wait on (crt.gen, unchanged:
 * they see no release and wait again after helping); every thread, the manager too,
 * takes the next part until none is left.  The manager returns only once every part
 * is done and no thread is inside the work any more, so the next work never meets
 * a thread still running the last.  A thread that does not wake in time is no
 * matter: the manager takes the parts it did not. */
#define _GNU_SOURCE
#include "parked_help.h"

#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime.h"

static struct {
    cr_help_fn fn;
    void *arg;
    uint32_t nparts;
    uint32_t next;             /* the next part to take */
    uint32_t done;             /* parts done */
    uint32_t open;             /* work under way */
    uint32_t inside;           /* threads that may be taking parts */
} work;

static void take_parts(void)
{
    for (;;) {
        uint32_t i = __atomic_fetch_add(&work.next, 1, __ATOMIC_ACQ_REL);
        if (i >= work.nparts)
            return;
        work.fn(work.arg, i);
        if (__atomic_add_fetch(&work.done, 1, __ATOMIC_ACQ_REL) == work.nparts)
            cr_futex_wake(&work.done);
    }
}

void cr_help_offer(void)
{
    __atomic_add_fetch(&work.inside, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&work.open, __ATOMIC_SEQ_CST))
        take_parts();
    if (__atomic_sub_fetch(&work.inside, 1, __ATOMIC_SEQ_CST) == 0)
        cr_futex_wake(&work.inside);
}

uint32_t cr_help_hands(void)
{
    /* no more than the cores the process may run on */
    unsigned char mask[128] = { 0 };
    long n = syscall(SYS_sched_getaffinity, 0, sizeof mask, mask);
    uint32_t cpus = 0;
    for (long i = 0; i < n && i < (long)sizeof mask; i++)
        cpus += (uint32_t)__builtin_popcount(mask[i]);
    uint32_t hands = 1 + __atomic_load_n(&crt.nparked, __ATOMIC_ACQUIRE);
    return cpus && cpus < hands ? cpus : hands;
}

void cr_help_run(cr_help_fn fn, void *arg, uint32_t nparts)
{
    work.fn = fn;
    work.arg = arg;
    work.nparts = nparts;
    work.next = work.done = 0;
    __atomic_store_n(&work.open, 1, __ATOMIC_SEQ_CST);
    uint32_t hands = cr_help_hands();
    if (hands > nparts)
        hands = nparts;
    if (hands > 1) /* as many as may help (the release's generation is the same: they wait
                      again once they have helped) */
        syscall(SYS_futex, &crt.gen, FUTEX_WAKE_PRIVATE, (int)(hands - 1), NULL, NULL, 0);
    take_parts();
    uint32_t v;
    while ((v = __atomic_load_n(&work.done, __ATOMIC_ACQUIRE)) < nparts)
        cr_futex_wait(&work.done, v, 100);
    __atomic_store_n(&work.open, 0, __ATOMIC_SEQ_CST);
    while ((v = __atomic_load_n(&work.inside, __ATOMIC_SEQ_CST)) != 0)
        cr_futex_wait(&work.inside, v, 100);
}
