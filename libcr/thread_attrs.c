/* Attributes the kernel keeps per thread or per process and a restart would otherwise
 * take from cr_restart: nice, scheduling policy, CPU affinity, timer slack, keep-caps,
 * no-new-privs, the parent-death signal, the persona, the I/O priority, the TSC switch
 * (PR_SET_TSC); and per process the THP switch, memory-deny-write-execute (PR_SET_MDWE),
 * oom_score_adj, its private expedited membarrier registrations and whether it is
 * dumpable (PR_SET_DUMPABLE 0 also closes its /proc
 * files to itself: the dump makes it dumpable for its length).  Each thread records
 * its own in its slot while it is stopped (they are per thread: the manager's own
 * would be read otherwise) and puts them back in the restored copy; the process's
 * are the manager's to keep and put back.  They live in the runtime's memory, which
 * the image holds.  Putting back is best effort where Linux asks for privilege (a
 * lower nice, a real-time policy), as for rlimits, and the CPU affinity stays within
 * what the restart was given. */
#define _GNU_SOURCE
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/membarrier.h>

#define IOPRIO_WHO_PROCESS 1 /* <linux/ioprio.h>: a thread, 0 the caller */
#ifndef PR_SET_MDWE /* Linux 6.3 */
#define PR_SET_MDWE 65
#define PR_GET_MDWE 66
#endif

void cr_attrs_save_thread(struct cr_thread_attrs *a)
{
    memset(a, 0, sizeof *a);
    errno = 0;
    a->nice = getpriority(PRIO_PROCESS, 0); /* this thread: Linux's nice is per thread */
    a->nice_ok = errno == 0;
    a->policy = sched_getscheduler(0);
    struct sched_param sp;
    a->priority = sched_getparam(0, &sp) == 0 ? sp.sched_priority : 0;
    a->affinity_len = syscall(SYS_sched_getaffinity, 0, sizeof a->affinity, a->affinity);
    a->timerslack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
    a->keepcaps = prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0);
    a->no_new_privs = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
    int sig = 0;
    if (prctl(PR_GET_PDEATHSIG, &sig, 0, 0, 0) == 0)
        a->pdeathsig = sig;
    a->persona = (long)personality(0xffffffff);
    a->ioprio = (int)syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, 0); /* this thread's */
    if (prctl(PR_GET_TSC, &a->tsc, 0, 0, 0) < 0)
        a->tsc = 0;
    a->saved = 1;
}

void cr_attrs_restore_thread(const struct cr_thread_attrs *a)
{
    if (!a->saved)
        return;
    if (a->nice_ok)
        setpriority(PRIO_PROCESS, 0, a->nice);
    if (a->policy >= 0) {
        struct sched_param sp = { .sched_priority = a->priority };
        sched_setscheduler(0, a->policy, &sp);
    }
    /* within the CPUs this restart was given (a Slurm job on another node binds its
     * tasks anew): the program's own narrowing is kept, never widened past them */
    unsigned long now[16], both[16];
    long n = syscall(SYS_sched_getaffinity, 0, sizeof now, now);
    if (a->affinity_len > 0 && n > 0) {
        int any = 0;
        memset(both, 0, sizeof both);
        for (long i = 0; i < (n < a->affinity_len ? n : a->affinity_len) / (long)sizeof *both; i++)
            any |= (both[i] = now[i] & a->affinity[i]) != 0;
        if (any)
            syscall(SYS_sched_setaffinity, 0, sizeof both, both);
    }
    if (a->timerslack > 0)
        prctl(PR_SET_TIMERSLACK, (unsigned long)a->timerslack, 0, 0, 0);
    if (a->keepcaps >= 0)
        prctl(PR_SET_KEEPCAPS, (unsigned long)a->keepcaps, 0, 0, 0);
    if (a->no_new_privs == 1)
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    if (a->pdeathsig > 0 && a->pdeathsig < 65)
        prctl(PR_SET_PDEATHSIG, (unsigned long)a->pdeathsig, 0, 0, 0);
    if (a->persona >= 0)
        personality((unsigned long)a->persona);
    /* set only when it differs from what a new thread has: one never set keeps
     * following its nice */
    if (a->ioprio >= 0 && syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, 0) != a->ioprio)
        syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, a->ioprio);
    if (a->tsc > 0)
        prctl(PR_SET_TSC, (unsigned long)a->tsc, 0, 0, 0);
}

static int read_int(const char *path, long *v)
{
    char buf[32];
    if (cr_read_text(path, buf, sizeof buf) < 0)
        return -1;
    *v = strtol(buf, NULL, 10);
    return 0;
}

void cr_attrs_save_process(struct cr_process_attrs *a)
{
    memset(a, 0, sizeof *a);
    a->thp_disable = prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0);
    a->dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
    a->mdwe = prctl(PR_GET_MDWE, 0, 0, 0, 0);
    a->oom_ok = read_int("/proc/self/oom_score_adj", &a->oom_score_adj) == 0;
    /* a private expedited barrier works only once registered (EPERM before): trying
     * one is how a process's registrations can be told, and costs nothing while every
     * other thread is parked */
    static const int barriers[] = { MEMBARRIER_CMD_PRIVATE_EXPEDITED,
                                    MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE,
                                    MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ };
    for (int i = 0; i < 3; i++)
        if (syscall(SYS_membarrier, barriers[i], 0, 0) == 0)
            a->membarriers |= 1u << i;
    a->saved = 1;
}

void cr_attrs_restore_process(const struct cr_process_attrs *a)
{
    if (!a->saved)
        return;
    if (a->thp_disable >= 0)
        prctl(PR_SET_THP_DISABLE, (unsigned long)a->thp_disable, 0, 0, 0);
    if (a->dumpable == 0)
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    /* the memory is all in place: nothing left to map writable and executable */
    if (a->mdwe > 0)
        prctl(PR_SET_MDWE, (unsigned long)a->mdwe, 0, 0, 0);
    static const int registrations[] = { MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
                                         MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE,
                                         MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ };
    for (int i = 0; i < 3; i++)
        if (a->membarriers & (1u << i))
            syscall(SYS_membarrier, registrations[i], 0, 0);
    long now;
    if (a->oom_ok && read_int("/proc/self/oom_score_adj", &now) == 0 && now != a->oom_score_adj) {
        char buf[32];
        int n = snprintf(buf, sizeof buf, "%ld\n", a->oom_score_adj);
        int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
            (void)!write(fd, buf, (size_t)n);
            close(fd);
        }
    }
}

void cr_attrs_dump_begin(const struct cr_process_attrs *a)
{
    if (a->dumpable == 0)
        prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
}

void cr_attrs_dump_end(const struct cr_process_attrs *a)
{
    if (a->dumpable == 0)
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}
