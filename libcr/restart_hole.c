/* What the runtime does in a restored process, done from outside for one that has
 * none (a ptrace image): while every thread waits at the restorer's gate, before it
 * runs the program (signals blocked), cr_restart traces them for a moment, gives the
 * robust mutexes each thread holds its new tid (robust_owner.c) and each thread its
 * attributes (nice, policy, CPUs, timer slack, keep-caps, persona, I/O priority, TSC;
 * the process's THP switch, MDWE, MCL_FUTURE, membarrier registrations,
 * oom_score_adj) and its pending signals back, and opens the gate; then, once no
 * thread is still in the restorer's mapping (the "hole": its code, the plan, the
 * threads' first stacks; a thread leaves it with its rt_sigreturn), makes it unmap the
 * hole through an injected munmap (syscall_inject.c), as CRIU's restore removes its
 * restorer blob. */
#define _GNU_SOURCE
#include "restart.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <linux/membarrier.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "context_reader.h"
#include "robust_owner.h"
#include "syscall_inject.h"

#define HOLE_THREADS 4096

/* Every thread of pid seized and stopped; their number, or -errno. */
static int hold(pid_t pid, pid_t *tids, int *n, char *msg, size_t msglen)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    for (int added = 1; added;) {
        added = 0;
        DIR *dir = opendir(path);
        if (!dir)
            return -ESRCH;
        struct dirent *e;
        while ((e = readdir(dir))) {
            pid_t tid = (pid_t)atoi(e->d_name);
            int known = 0;
            for (int i = 0; i < *n; i++)
                known |= tids[i] == tid;
            if (tid <= 0 || known || *n == HOLE_THREADS)
                continue;
            if (ptrace(PTRACE_SEIZE, tid, NULL, (void *)(long)PTRACE_O_TRACESYSGOOD) < 0) {
                if (errno == ESRCH)
                    continue;
                int err = errno;
                closedir(dir);
                snprintf(msg, msglen, "cannot trace the restored process %d to remove the "
                         "restorer's memory: %s", (int)pid, strerror(err));
                return -err;
            }
            tids[(*n)++] = tid;
            ptrace(PTRACE_INTERRUPT, tid, NULL, NULL);
            added = 1;
            for (;;) { /* a thread stops at once: it runs (or sleeps interruptibly) */
                int st;
                int rc = cr_wait_traced(tid, &st); /* (its end is our waiting parent's) */
                if (rc != 0) {
                    (*n)--; /* ended */
                    break;
                }
                if ((st >> 16) == PTRACE_EVENT_STOP)
                    break;
                ptrace(PTRACE_CONT, tid, NULL, (void *)(long)WSTOPSIG(st)); /* its signal */
            }
        }
        closedir(dir);
    }
    return 0;
}

static void let_go(const pid_t *tids, int n)
{
    for (int i = 0; i < n; i++)
        ptrace(PTRACE_DETACH, tids[i], NULL, NULL);
}

/* Thread tid of pid (our numbers) as the process itself numbers it: a tree's processes
 * may be in a pid namespace of their own (the last of /proc's NSpid); tid if unknown. */
static pid_t own_tid(pid_t pid, pid_t tid)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/task/%d/status", (int)pid, (int)tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    if (fd >= 0)
        close(fd);
    buf[n > 0 ? n : 0] = 0;
    char *line = strstr(buf, "\nNSpid:");
    if (!line)
        return tid;
    char *eol = strchr(line + 1, '\n');
    if (eol)
        *eol = 0;
    char *last = strrchr(line, '\t');
    long v = last ? strtol(last + 1, NULL, 10) : 0;
    return v > 0 ? (pid_t)v : tid;
}

/* Each held thread's robust mutexes named by its new tid (as the process numbers it):
 * the thread is found in the image by its robust list's head (in its TLS, where the
 * restorer registered it). */
static void robust_owners(pid_t pid, const pid_t *tids, int n, const struct ctx_image *img)
{
    for (int i = 0; i < n; i++) {
        void *head = NULL;
        size_t hlen = 0;
        if (syscall(SYS_get_robust_list, tids[i], &head, &hlen) < 0 || !head)
            continue;
        pid_t now = own_tid(pid, tids[i]);
        for (uint32_t k = 0; k < img->proc->nthreads; k++)
            if (img->threads[k]->robust_head == (uint64_t)(uintptr_t)head &&
                img->threads[k]->tid != now)
                cr_robust_new_tid_in(pid, (uint64_t)(uintptr_t)head, img->threads[k]->tid, now);
    }
}

/* The image's registers of held thread tid, found by its fs base (its TLS), which no
 * other thread shares; NULL if it cannot be told. */
static const struct ctx_thread_regs *regs_of(pid_t tid, const struct ctx_image *img)
{
    struct user_regs_struct r;
    if (ptrace(PTRACE_GETREGS, tid, NULL, &r) < 0)
        return NULL;
    const struct ctx_thread_regs *found = NULL;
    for (uint32_t k = 0; k < img->proc->nthreads; k++)
        if (img->threads[k]->fs_base == r.fs_base) {
            if (found)
                return NULL;
            found = img->regs[k];
        }
    return found;
}

/* Its attributes back, as the runtime puts its own back (thread_attrs.c): best effort
 * where Linux wants privilege (a lower nice, a real-time policy), the CPUs within
 * those this restart was given. */
/* The signals pending for the thread (and, from the main thread, the process's) queued
 * again by the thread itself, their siginfo written below its stack's red zone. */
static void requeue(pid_t pid, pid_t tid, struct cr_inject *in, const struct ctx_thread_regs *tr,
                    const struct ctx_image *img)
{
    uint64_t where = (in->saved.rsp - 128 - 2 * CTX_SIGINFO_SIZE) & ~63ULL;
    char ignored[256];
    /* the calls are the thread's: its own numbers (a tree's pid namespace) */
    pid_t own_pid = own_tid(pid, pid), own = own_tid(pid, tid);
    for (uint32_t k = 0; k < img->npending; k++) {
        const struct ctx_pending *pd = img->pending[k];
        if (pd->tid != tr->tid || (pd->shared && tid != pid))
            continue;
        for (uint32_t i = 0; i < pd->count; i++) {
            const unsigned char *si = (const unsigned char *)(pd + 1) + (size_t)i * CTX_SIGINFO_SIZE;
            int32_t signo;
            memcpy(&signo, si, sizeof signo);
            struct iovec here = { (void *)si, CTX_SIGINFO_SIZE }, there = { (void *)(uintptr_t)where, CTX_SIGINFO_SIZE };
            long ret;
            if (syscall(SYS_process_vm_writev, pid, &here, 1, &there, 1, 0) != CTX_SIGINFO_SIZE)
                continue;
            if (pd->shared)
                cr_inject_call(in, &ret, SYS_rt_sigqueueinfo, own_pid, signo, (long)where, 0, 0, 0,
                               ignored, sizeof ignored);
            else
                cr_inject_call(in, &ret, SYS_rt_tgsigqueueinfo, own_pid, own, signo, (long)where,
                               0, 0, ignored, sizeof ignored);
        }
    }
}

static void put_attrs(pid_t pid, pid_t tid, const struct ctx_thread_regs *tr, uint64_t ip,
                      const struct ctx_image *img)
{
    if (tr->nice_ok)
        setpriority(PRIO_PROCESS, (id_t)tid, tr->nice);
    if (tr->policy >= 0) {
        struct sched_param sp = { .sched_priority = tr->priority };
        sched_setscheduler(tid, tr->policy, &sp);
    }
    uint64_t now[16], both[16];
    long n = syscall(SYS_sched_getaffinity, tid, sizeof now, now);
    if (tr->affinity_len && n > 0) {
        int any = 0;
        memset(both, 0, sizeof both);
        for (long i = 0; i < (n < (long)tr->affinity_len ? n : (long)tr->affinity_len) / 8; i++)
            any |= (both[i] = now[i] & tr->affinity[i]) != 0;
        if (any)
            syscall(SYS_sched_setaffinity, tid, sizeof both, both);
    }
    if (tr->proc_attrs && tr->oom_score_adj >= -1000) {
        char path[64], buf[32];
        snprintf(path, sizeof path, "/proc/%d/oom_score_adj", (int)pid);
        int len = snprintf(buf, sizeof buf, "%d\n", tr->oom_score_adj);
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
            (void)!write(fd, buf, (size_t)len);
            close(fd);
        }
    }
    if (tr->ioprio >= 0 && syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, tid) != tr->ioprio)
        syscall(SYS_ioprio_set, 1, tid, tr->ioprio);
    /* what only the thread itself may set */
    struct cr_inject in;
    char ignored[256];
    long ret;
    if (cr_inject_begin(&in, tid, ip, ignored, sizeof ignored) < 0)
        return;
    if (tr->timerslack > 0)
        cr_inject_call(&in, &ret, SYS_prctl, PR_SET_TIMERSLACK, tr->timerslack, 0, 0, 0, 0, ignored, sizeof ignored);
    if (tr->keepcaps >= 0)
        cr_inject_call(&in, &ret, SYS_prctl, PR_SET_KEEPCAPS, tr->keepcaps, 0, 0, 0, 0, ignored, sizeof ignored);
    if (tr->persona >= 0)
        cr_inject_call(&in, &ret, SYS_personality, tr->persona, 0, 0, 0, 0, 0, ignored, sizeof ignored);
    if (tr->tsc > 0)
        cr_inject_call(&in, &ret, SYS_prctl, PR_SET_TSC, tr->tsc, 0, 0, 0, 0, ignored, sizeof ignored);
    if (tr->proc_attrs && tr->mcl_future) /* (its current mappings have their own locks) */
        cr_inject_call(&in, &ret, SYS_mlockall, tr->mcl_future, 0, 0, 0, 0, 0, ignored, sizeof ignored);
    if (tr->proc_attrs && tr->mdwe > 0) /* (it cannot be cleared; nothing after it makes memory executable) */
        cr_inject_call(&in, &ret, SYS_prctl, 65 /* PR_SET_MDWE */, tr->mdwe, 0, 0, 0, 0, ignored, sizeof ignored);
    if (tr->proc_attrs && tr->thp_disable >= 0)
        cr_inject_call(&in, &ret, SYS_prctl, PR_SET_THP_DISABLE, tr->thp_disable, 0, 0, 0, 0, ignored, sizeof ignored);
    static const int registrations[] = { MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
                                         MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE,
                                         MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ };
    for (int i = 0; tr->proc_attrs && i < 3; i++)
        if (tr->membarriers & (1u << i))
            cr_inject_call(&in, &ret, SYS_membarrier, registrations[i], 0, 0, 0, 0, 0, ignored, sizeof ignored);
    requeue(pid, tid, &in, tr, img);
    cr_inject_end(&in, ignored, sizeof ignored);
}

/* Every thread at the gate (counted in gate[0]), within 30 s: 0, or -errno and msg */
static int gate_wait(pid_t pid, uint64_t gate, uint32_t nthreads, char *msg, size_t msglen)
{
    for (int i = 0; i < 30000; i++) {
        uint32_t arrived = 0;
        struct iovec local = { &arrived, sizeof arrived }, remote = { (void *)(uintptr_t)gate, sizeof arrived };
        if (process_vm_readv(pid, &local, 1, &remote, 1, 0) != (ssize_t)sizeof arrived) {
            snprintf(msg, msglen, "cannot read the restorer's gate: %s", strerror(errno));
            return -errno;
        }
        if (arrived >= nthreads)
            return 0;
        struct timespec nap = { 0, 1000000 };
        nanosleep(&nap, NULL);
    }
    snprintf(msg, msglen, "the restored threads did not all reach the restorer's gate within 30 s");
    return -ETIMEDOUT;
}

static int gate_open(pid_t pid, uint64_t gate, char *msg, size_t msglen)
{
    uint32_t one = 1;
    struct iovec local = { &one, sizeof one }, remote = { (void *)(uintptr_t)(gate + 4), sizeof one };
    if (process_vm_writev(pid, &local, 1, &remote, 1, 0) == (ssize_t)sizeof one)
        return 0;
    snprintf(msg, msglen, "cannot open the restorer's gate: %s", strerror(errno));
    return -errno;
}

/* What the threads (held, tids[0..n)) get back from outside: the owners of their
 * robust mutexes, then each its attributes. */
static void put_back_held(pid_t pid, const pid_t *tids, int n, uint64_t ip, const struct ctx_image *img)
{
    robust_owners(pid, tids, n, img);
    for (int i = 0; i < n; i++) {
        const struct ctx_thread_regs *tr = regs_of(tids[i], img);
        if (tr)
            put_attrs(pid, tids[i], tr, ip, img);
    }
}

int cr_restart_put_back(pid_t pid, uint64_t gate, const struct ctx_image *img, char *msg,
                        size_t msglen)
{
    uint64_t ip;
    int rc = cr_inject_find_syscall(pid, &ip, msg, msglen);
    if (rc < 0)
        return rc;
    pid_t *tids = calloc(HOLE_THREADS, sizeof *tids);
    if (!tids)
        return -ENOMEM;
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old); /* the injection is not left half done by us */
    int n = 0;
    rc = gate_wait(pid, gate, img->proc->nthreads, msg, msglen);
    if (rc == 0)
        rc = hold(pid, tids, &n, msg, msglen);
    if (rc == 0)
        put_back_held(pid, tids, n, ip, img);
    let_go(tids, n);
    sigprocmask(SIG_SETMASK, &old, NULL);
    free(tids);
    return rc;
}

int cr_restart_open_gate(pid_t pid, uint64_t gate, char *msg, size_t msglen)
{
    return gate_open(pid, gate, msg, msglen);
}

int cr_restart_gate_opened(pid_t pid, uint64_t gate)
{
    uint32_t open = 0;
    struct iovec local = { &open, sizeof open }, remote = { (void *)(uintptr_t)(gate + 4), sizeof open };
    return process_vm_readv(pid, &local, 1, &remote, 1, 0) == (ssize_t)sizeof open && open;
}

/* Once no thread runs in [start, start + len): that memory unmapped by the process;
 * what is put back first when no gate held it (put_back). */
/* Whether the process ended meanwhile (a signal, once it ran): nothing is left to do
 * in it then, and what failed on the way is no news. */
static int ended_now(pid_t pid)
{
    char state[64];
    snprintf(state, sizeof state, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(state, "re");
    int gone = !f;
    if (f) {
        gone = fscanf(f, "%*d (%*[^)]) %63s", state) == 1 && (state[0] == 'Z' || state[0] == 'X');
        fclose(f);
    }
    return gone;
}

/* (one on its way out has lost its memory, EACCES, before it is a zombie: up to 0.1 s) */
static int ended(pid_t pid)
{
    for (int i = 0; i < 20; i++) {
        if (ended_now(pid))
            return 1;
        struct timespec nap = { 0, 5000000 };
        nanosleep(&nap, NULL);
    }
    return 0;
}

static int remove_hole(pid_t pid, uint64_t start, uint64_t len, const struct ctx_image *img,
                       int put_back, char *msg, size_t msglen)
{
    uint64_t ip;
    int rc = cr_inject_find_syscall(pid, &ip, msg, msglen);
    if (rc < 0)
        return ended(pid) ? 0 : rc;
    pid_t *tids = calloc(HOLE_THREADS, sizeof *tids);
    if (!tids)
        return -ENOMEM;
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old); /* the injection is not left half done by us */
    int done = 0;
    for (int attempt = 0; attempt < 1000 && !done; attempt++) {
        int n = 0, inside = 0;
        rc = hold(pid, tids, &n, msg, msglen);
        for (int i = 0; rc == 0 && i < n; i++) {
            struct user_regs_struct r;
            if (ptrace(PTRACE_GETREGS, tids[i], NULL, &r) == 0 && r.rip >= start && r.rip < start + len)
                inside = 1;
        }
        if (rc == 0 && !inside && n > 0) {
            if (put_back) /* (without a gate: once it runs) */
                put_back_held(pid, tids, n, ip, img);
            struct cr_inject in;
            long ret = 0;
            pid_t who = tids[0];
            for (int i = 0; i < n; i++)
                if (tids[i] == pid)
                    who = pid; /* the main thread, if it is still there */
            rc = cr_inject_begin(&in, who, ip, msg, msglen);
            if (rc == 0)
                rc = cr_inject_call(&in, &ret, SYS_munmap, (long)start, (long)len, 0, 0, 0, 0, msg, msglen);
            char ignored[256];
            int end = cr_inject_end(&in, rc < 0 ? ignored : msg, rc < 0 ? sizeof ignored : msglen);
            if (rc == 0)
                rc = end;
            if (rc == 0 && ret < 0) {
                snprintf(msg, msglen, "the restored process could not unmap the restorer's memory: %s",
                         strerror((int)-ret));
                rc = (int)ret;
            }
        }
        let_go(tids, n);
        done = rc == 0 && !inside;
        if (rc < 0)
            break;
        struct timespec nap = { 0, 1000000 }; /* a thread on its way out of the hole */
        nanosleep(&nap, NULL);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    free(tids);
    if ((rc < 0 || !done) && ended(pid))
        return 0;
    if (rc == 0 && !done) {
        snprintf(msg, msglen, "a thread of the restored process stayed in the restorer's memory");
        rc = -EBUSY;
    }
    return rc;
}

int cr_restart_remove_hole(pid_t pid, uint64_t start, uint64_t len, const struct ctx_image *img,
                           char *msg, size_t msglen)
{
    return remove_hole(pid, start, len, img, 0, msg, msglen);
}

int cr_restart_unmap_hole(pid_t pid, uint64_t start, uint64_t len, uint64_t gate,
                          const struct ctx_image *img, char *msg, size_t msglen)
{
    if (gate) { /* before the program runs: put back, then let it go */
        int rc = cr_restart_put_back(pid, gate, img, msg, msglen);
        if (rc == 0)
            rc = gate_open(pid, gate, msg, msglen);
        if (rc < 0)
            return rc;
    }
    return remove_hole(pid, start, len, img, !gate, msg, msglen);
}
