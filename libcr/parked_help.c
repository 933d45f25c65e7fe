/* Work shared with the parked threads (parked_help.h).  The manager publishes the
 * work and wakes parked threads on the futex they wait on (crt.gen, unchanged: they
 * see no release and wait again after helping); each thread, the manager first,
 * claims the parts still free one at a time.  The manager never waits for another
 * thread: once no part is free it does again, into its own copy, every part still
 * running elsewhere (a thread the machine took the core from), and whichever copy is
 * done first is the part's.  A thread still in a part it lost is out of it before the
 * output it writes to may go (cr_help_settle, after the release). */
#define _GNU_SOURCE
#include "parked_help.h"

#include <limits.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime.h"

enum { PART_FREE, PART_RUNNING, PART_DONE }; /* PART_DONE + copy: done in that copy */

static struct {
    cr_help_fn fn;
    void *arg;
    uint32_t nparts;
    uint32_t open;             /* work under way */
    uint32_t inside;           /* threads that may be in a part */
    uint32_t state[CR_HELP_PARTS_MAX];
} work;

/* Claims and runs free parts (copy 0) until none is left. */
static void take_free_parts(void)
{
    for (uint32_t i = 0; i < work.nparts; i++) {
        uint32_t free_ = PART_FREE;
        if (!__atomic_compare_exchange_n(&work.state[i], &free_, PART_RUNNING, 0, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE))
            continue;
        work.fn(work.arg, i, 0);
        uint32_t running = PART_RUNNING;
        __atomic_compare_exchange_n(&work.state[i], &running, PART_DONE + 0, 0, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE);
    }
}

void cr_help_offer(void)
{
    __atomic_add_fetch(&work.inside, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&work.open, __ATOMIC_SEQ_CST))
        take_free_parts();
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

void cr_help_settle(void)
{
    __atomic_store_n(&work.open, 0, __ATOMIC_SEQ_CST);
    uint32_t v;
    while ((v = __atomic_load_n(&work.inside, __ATOMIC_SEQ_CST)) != 0)
        cr_futex_wait(&work.inside, v, 100);
}

void cr_help_restored(void)
{
    memset(&work, 0, sizeof work); /* no thread of this copy was ever in it */
}

void cr_help_run(cr_help_fn fn, void *arg, uint32_t nparts)
{
    cr_help_settle(); /* (the last work's threads are out of it long since) */
    work.fn = fn;
    work.arg = arg;
    work.nparts = nparts < CR_HELP_PARTS_MAX ? nparts : CR_HELP_PARTS_MAX;
    for (uint32_t i = 0; i < work.nparts; i++)
        work.state[i] = PART_FREE;
    __atomic_store_n(&work.open, 1, __ATOMIC_SEQ_CST);
    uint32_t hands = cr_help_hands();
    if (hands > work.nparts)
        hands = work.nparts;
    if (hands > 1) /* as many as may help (the release's generation is the same: they wait
                      again once they have helped) */
        syscall(SYS_futex, &crt.gen, FUTEX_WAKE_PRIVATE, (int)(hands - 1), NULL, NULL, 0);
    take_free_parts();
    /* the parts another thread still runs: again, in copy 1 */
    for (uint32_t i = 0; i < work.nparts; i++) {
        if (__atomic_load_n(&work.state[i], __ATOMIC_ACQUIRE) != PART_RUNNING)
            continue;
        fn(arg, i, 1);
        uint32_t running = PART_RUNNING;
        __atomic_compare_exchange_n(&work.state[i], &running, PART_DONE + 1, 0, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE);
    }
    __atomic_store_n(&work.open, 0, __ATOMIC_SEQ_CST);
}

uint32_t cr_help_copy(uint32_t part)
{
    return __atomic_load_n(&work.state[part], __ATOMIC_ACQUIRE) - PART_DONE;
}
