/* The ptrace dumper: checkpoints a process that has no runtime (doc/kmod-design.md
 * section 3), from the requester's side.
 *
 *   1. every thread is PTRACE_SEIZEd (the kernel decides whether we may: another
 *      user's process, or one traced by someone else, is refused there) and
 *      PTRACE_INTERRUPTed;
 *   2. what ptrace and /proc give is read: registers and vector state, signal mask,
 *      signals pending (PTRACE_PEEKSIGINFO), rseq area, robust list, the mm fields, auxv;
 *   3. what only the process can ask about itself (its signal handlers, sigaltstacks,
 *      clear_child_tid addresses, itimers, brk, prctl values) it is made to ask through
 *      injected system calls (syscall_inject.c), into a page mapped in it for the
 *      purpose and unmapped before its memory is read;
 *   4. a helper process takes a copy of each of its fds under the same numbers
 *      (pidfd_getfd) and runs the engine's dumper on them and on the stopped process's
 *      memory (/proc/PID/mem, pagemap, smaps): the same kinds (resources/), the same
 *      memory rules (dump_memory.c), the same writer (dump_write.c);
 *   5. the threads are detached: they run on from where they were stopped.
 *
 * The image says CTX_HDR_PTRACE: each thread's registers are in a CTX_REC_THREAD_REGS
 * record, from which the restorer builds its rt_sigreturn frame (restart.c).
 *
 * A tree (or group, session) is held by tree_request.c through cr_ptrace_seize, every
 * process before any is written, then each written by cr_ptrace_dump (steps 2-4, with
 * what it shares with the others) and let go by cr_ptrace_release (step 5). */
#define _GNU_SOURCE
#include "ptrace_dump.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <linux/membarrier.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../kmod/crctl.h"
#include "context_header.h"
#include "crc32c.h"
#include "dump.h"
#include "resources/resources.h"
#include "syscall_inject.h"

#ifndef PTRACE_GETSIGMASK
#define PTRACE_GETSIGMASK 0x420a
#endif
#define PTRACE_GET_RSEQ_CONFIGURATION_ 0x420f
#define MAX_TASKS 4096

struct pt_thread {
    pid_t tid;
    int stopped;
    struct user_regs_struct regs;
    unsigned char *xsave;
    uint32_t xsave_len;
    uint64_t sigmask, clear_tid, robust_head, robust_len;
    uint64_t ss_sp, ss_size;
    uint32_t ss_flags;
    uint64_t rseq_addr;
    uint32_t rseq_len, rseq_sig;
    char comm[16];
    /* attributes (ctx_thread_regs) */
    int32_t nice, nice_ok, policy, priority, keepcaps, ioprio, tsc;
    int64_t timerslack, persona;
    uint32_t affinity_len;
    uint64_t affinity[16];
    /* signals pending for it (and, the first thread, for the process): PEEKSIGINFO's */
    unsigned char *pending[2];
    uint32_t npending[2];
};

struct pt {
    pid_t pid;
    struct pt_thread *th;      /* the leader first */
    int n, cap;
    char *msg;
    size_t msglen;
    int mem;                   /* /proc/PID/mem */
};

static int say(struct pt *t, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int say(struct pt *t, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->msg, t->msglen, fmt, ap);
    va_end(ap);
    return -err;
}

/* A /proc file of the process, whole, NUL-terminated (malloc'd), or NULL. */
static char *slurp(const char *fmt, pid_t pid, pid_t tid, size_t *len)
{
    char path[96];
    snprintf(path, sizeof path, fmt, (int)pid, (int)tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 8192, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf)
            break;
        if (n + 1 >= cap) {
            char *more = realloc(buf, cap *= 2);
            if (!more) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = more;
        }
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (buf)
        buf[n] = 0;
    if (len)
        *len = n;
    return buf;
}

static unsigned long long status_field(const char *status, const char *key, int base)
{
    const char *p = status ? strstr(status, key) : NULL;
    return p ? strtoull(p + strlen(key), NULL, base) : 0;
}

/* ---- 1. seize and stop every thread ---- */

static int find_thread(const struct pt *t, pid_t tid)
{
    for (int i = 0; i < t->n; i++)
        if (t->th[i].tid == tid)
            return i;
    return -1;
}

/* Waits until thread i is in a ptrace stop (a signal that arrives first is delivered:
 * it would have been before the checkpoint).  0, 1 if the thread ended, or -errno. */
static int wait_stopped(struct pt *t, int i, const struct timespec *deadline)
{
    pid_t tid = t->th[i].tid;
    for (;;) {
        int st;
        pid_t w = waitpid(tid, &st, __WALL | WNOHANG);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == ECHILD)
            return 1;
        if (w < 0)
            return say(t, errno, "waiting for thread %d of process %d: %s", (int)tid, (int)t->pid,
                       strerror(errno));
        if (w == tid && (WIFEXITED(st) || WIFSIGNALED(st)))
            return 1;
        if (w == tid && WIFSTOPPED(st) && (st >> 16) == PTRACE_EVENT_STOP) {
            t->th[i].stopped = 1;
            return 0;
        }
        if (w == tid && WIFSTOPPED(st)) { /* a signal on its way: let it through */
            if (ptrace(PTRACE_CONT, tid, NULL, (void *)(long)WSTOPSIG(st)) < 0 && errno != ESRCH)
                return say(t, errno, "cannot let thread %d take its signal %d: %s", (int)tid,
                           WSTOPSIG(st), strerror(errno));
            continue;
        }
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > deadline->tv_sec ||
            (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec))
            return say(t, ETIME, "thread %d of process %d did not stop in time (it may be in an "
                       "uninterruptible wait, state D): nothing was written and the process "
                       "runs on; try again, or give more time with -t", (int)tid, (int)t->pid);
        struct timespec nap = { 0, 1000000 }; /* polled: waitpid has no timeout */
        nanosleep(&nap, NULL);
    }
}

static int seize_all(struct pt *t, unsigned timeout_ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (deadline.tv_nsec >= 1000000000)
        deadline.tv_sec++, deadline.tv_nsec -= 1000000000;
    char path[64];
    char *status = slurp("/proc/%d/status", t->pid, 0, NULL);
    long tgid = status ? (long)status_field(status, "Tgid:", 10) : -1;
    free(status);
    if (tgid < 0)
        return say(t, ESRCH, "no process %d", (int)t->pid);
    if (tgid != t->pid)
        return say(t, EINVAL, "%d is a thread of process %ld: give the process's id", (int)t->pid, tgid);
    snprintf(path, sizeof path, "/proc/%d/task", (int)t->pid);
    for (int added = 1; added;) { /* until a listing finds no thread not held yet */
        added = 0;
        DIR *dir = opendir(path);
        if (!dir)
            return say(t, errno == ENOENT ? ESRCH : errno, "no process %d", (int)t->pid);
        struct dirent *e;
        while ((e = readdir(dir))) {
            pid_t tid = (pid_t)atoi(e->d_name);
            if (tid <= 0 || find_thread(t, tid) >= 0)
                continue;
            if (t->n == MAX_TASKS) {
                closedir(dir);
                return say(t, E2BIG, "process %d has more than %d threads", (int)t->pid, MAX_TASKS);
            }
            if (t->n == t->cap) { /* (a tree holds many processes: each as big as it needs) */
                struct pt_thread *more = realloc(t->th, (size_t)(t->cap ? 2 * t->cap : 8) * sizeof *more);
                if (!more) {
                    closedir(dir);
                    return say(t, ENOMEM, "out of memory");
                }
                t->th = more;
                t->cap = t->cap ? 2 * t->cap : 8;
            }
            if (ptrace(PTRACE_SEIZE, tid, NULL, (void *)(long)PTRACE_O_TRACESYSGOOD) < 0) {
                int err = errno;
                if (err == ESRCH)
                    continue; /* it ended meanwhile */
                closedir(dir);
                char *status = slurp("/proc/%d/status", t->pid, 0, NULL);
                long tracer = (long)status_field(status, "TracerPid:", 10);
                long uid = (long)status_field(status, "Uid:", 10);
                free(status);
                if (err == EPERM && tracer > 0)
                    return say(t, EBUSY, "process %d is being traced by process %ld (a debugger or "
                               "strace): detach it first; nothing was done to the process",
                               (int)t->pid, tracer);
                if (err == EPERM && uid != (long)getuid())
                    return say(t, EPERM, "process %d belongs to uid %ld: the kernel does not let "
                               "uid %ld trace it (only its owner or root may checkpoint it)",
                               (int)t->pid, uid, (long)getuid());
                return say(t, err, "the kernel does not let us trace process %d (%s): it is "
                           "not dumpable, or a security module (Yama ptrace_scope, SELinux) "
                           "forbids it", (int)t->pid, strerror(err));
            }
            struct pt_thread *th = &t->th[t->n++];
            memset(th, 0, sizeof *th);
            th->tid = tid;
            if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0 && errno != ESRCH) {
                closedir(dir);
                return say(t, errno, "cannot stop thread %d: %s", (int)tid, strerror(errno));
            }
            added = 1;
        }
        closedir(dir);
        for (int i = 0; i < t->n; i++) {
            if (t->th[i].stopped)
                continue;
            int rc = wait_stopped(t, i, &deadline);
            if (rc < 0)
                return rc;
            if (rc == 1) /* ended: no longer ours */
                t->th[i--] = t->th[--t->n];
        }
    }
    int leader = find_thread(t, t->pid);
    if (leader < 0)
        return say(t, ENOTSUP, "the main thread of process %d has exited; such a process cannot "
                   "be restored", (int)t->pid);
    struct pt_thread tmp = t->th[0];
    t->th[0] = t->th[leader];
    t->th[leader] = tmp;
    return 0;
}

static void detach_all(struct pt *t)
{
    for (int i = 0; i < t->n; i++)
        ptrace(PTRACE_DETACH, t->th[i].tid, NULL, NULL);
}

/* ---- 2. what ptrace gives ---- */

static int read_thread(struct pt *t, struct pt_thread *th)
{
    pid_t tid = th->tid;
    if (ptrace(PTRACE_GETREGS, tid, NULL, &th->regs) < 0)
        return say(t, errno, "cannot read the registers of thread %d: %s", (int)tid, strerror(errno));
    if (th->regs.cs != 0x33)
        return say(t, ENOTSUP, "thread %d runs 32-bit code (cs 0x%llx): only 64-bit programs "
                   "can be checkpointed", (int)tid, (unsigned long long)th->regs.cs);
    th->xsave = calloc(1, CTX_XSAVE_MAX);
    struct iovec iov = { th->xsave, CTX_XSAVE_MAX };
    if (!th->xsave)
        return say(t, ENOMEM, "out of memory");
    if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_X86_XSTATE, &iov) < 0)
        return say(t, errno, "cannot read the vector registers of thread %d (NT_X86_XSTATE): %s",
                   (int)tid, strerror(errno));
    if (iov.iov_len < CTX_XSAVE_MIN)
        return say(t, ENOTSUP, "thread %d: the processor has no XSAVE state (%zu bytes)", (int)tid,
                   iov.iov_len);
    th->xsave_len = (uint32_t)((iov.iov_len + 7) & ~(size_t)7);
    if (ptrace(PTRACE_GETSIGMASK, tid, (void *)sizeof th->sigmask, &th->sigmask) < 0)
        return say(t, errno, "cannot read the signal mask of thread %d: %s", (int)tid, strerror(errno));
    struct { uint64_t ptr; uint32_t size, sig, flags, pad; } rseq = { 0, 0, 0, 0, 0 };
    long got = ptrace(PTRACE_GET_RSEQ_CONFIGURATION_, tid, (void *)sizeof rseq, &rseq);
    if (got < 0 && errno == EIO) { /* before 5.13: the module knows */
        int ctl = open("/dev/crctl", O_RDWR | O_CLOEXEC);
        struct crctl_task_info info;
        memset(&info, 0, sizeof info);
        info.tid = tid;
        if (ctl >= 0 && ioctl(ctl, CRCTL_TASK_INFO, &info) == 0) {
            rseq.ptr = info.rseq;
            rseq.size = info.rseq_len;
            rseq.sig = info.rseq_sig;
            got = 0;
        }
        if (ctl >= 0)
            close(ctl);
        if (got < 0)
            return say(t, ENOTSUP, "this kernel cannot tell the rseq area of thread %d "
                       "(PTRACE_GET_RSEQ_CONFIGURATION is Linux 5.13): load the crctl module "
                       "(CRCTL_TASK_INFO), or run the program under cr_run", (int)tid);
    } else if (got < 0) {
        return say(t, errno, "cannot read the rseq area of thread %d: %s", (int)tid, strerror(errno));
    }
    if (rseq.ptr && (rseq.size < 32 || rseq.size > 4096 || rseq.ptr % 32))
        return say(t, ENOTSUP, "thread %d has an rseq area of %u bytes at 0x%llx, which cannot be "
                   "registered again", (int)tid, rseq.size, (unsigned long long)rseq.ptr);
    th->rseq_addr = rseq.ptr;
    th->rseq_len = rseq.ptr ? rseq.size : 0;
    th->rseq_sig = rseq.ptr ? rseq.sig : 0;
    if (syscall(SYS_get_robust_list, tid, &th->robust_head, &th->robust_len) < 0)
        return say(t, errno, "cannot read the robust futex list of thread %d: %s", (int)tid,
                   strerror(errno));
    char *comm = slurp("/proc/%d/task/%d/comm", t->pid, tid, NULL);
    if (comm) {
        comm[strcspn(comm, "\n")] = 0;
        snprintf(th->comm, sizeof th->comm, "%s", comm);
        free(comm);
    }
    /* what the kernel tells anyone who may: nice, scheduling, CPUs */
    errno = 0;
    th->nice = getpriority(PRIO_PROCESS, (id_t)tid);
    th->nice_ok = errno == 0;
    th->policy = sched_getscheduler(tid);
    struct sched_param sp;
    th->priority = th->policy >= 0 && sched_getparam(tid, &sp) == 0 ? sp.sched_priority : 0;
    if (th->policy < 0)
        th->policy = -1;
    else
        th->policy &= ~SCHED_RESET_ON_FORK;
    long alen = syscall(SYS_sched_getaffinity, tid, sizeof th->affinity, th->affinity);
    th->affinity_len = alen > 0 ? (uint32_t)alen & ~7u : 0;
    /* the signals pending, with their siginfo, not taken from it */
    for (int shared = 0; shared < 2 && (shared == 0 || th == &t->th[0]); shared++) {
        for (;;) {
            uint32_t have = th->npending[shared];
            if (have >= CTX_PENDING_MAX)
                return say(t, E2BIG, "more than %d signals are pending for %s %d", CTX_PENDING_MAX,
                           shared ? "process" : "thread", shared ? (int)t->pid : (int)tid);
            unsigned char *more = realloc(th->pending[shared], (size_t)(have + 64) * CTX_SIGINFO_SIZE);
            if (!more)
                return say(t, ENOMEM, "out of memory");
            th->pending[shared] = more;
            struct { uint64_t off; uint32_t flags; int32_t nr; } arg = { have, shared ? 1u : 0u, 64 };
            long got = ptrace(PTRACE_PEEKSIGINFO, tid, &arg, more + (size_t)have * CTX_SIGINFO_SIZE);
            if (got < 0)
                return say(t, errno, "cannot read the signals pending for thread %d "
                           "(PTRACE_PEEKSIGINFO): %s", (int)tid, strerror(errno));
            th->npending[shared] += (uint32_t)got;
            if (got < 64)
                break;
        }
    }
    return 0;
}

/* ---- 3. what the process tells through injected calls ---- */

struct pt_asked {              /* the process's answers (besides the threads') */
    uint64_t sigactions[CTX_NSIG][4];
    uint64_t itimer[3][4];
    uint64_t brk;
    int32_t pdeathsig, dumpable, subreaper;
    uint64_t rlim[CTX_NRLIMIT][2]; /* its own prlimit64 (ours may be refused: another uid
                                      without CAP_SYS_RESOURCE) */
    int32_t thp_disable, mdwe, mcl_future;
    uint32_t membarriers;
};

#define SCRATCH_LEN 4096UL

static int read_remote(struct pt *t, uint64_t addr, void *buf, size_t len)
{
    if (pread(t->mem, buf, len, (off_t)addr) != (ssize_t)len)
        return say(t, errno ? errno : EIO, "cannot read the answer at 0x%llx in process %d",
                   (unsigned long long)addr, (int)t->pid);
    return 0;
}

#define CALL(in, ret, nr, a, b, c, d)                                                               \
    do {                                                                                           \
        rc = cr_inject_call(in, ret, nr, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0, t->msg,  \
                            t->msglen);                                                            \
        if (rc < 0)                                                                                \
            goto out;                                                                              \
    } while (0)

/* mlockall(MCL_FUTURE) has no call that tells it: a mapping made since (the page mapped
 * for the questions) is locked ("lo" in its VmFlags), on fault too with MCL_ONFAULT
 * ("lf").  Its MCL_* flags, or 0. */
static int32_t mcl_future(pid_t pid, uint64_t page)
{
    char *smaps = slurp("/proc/%d/smaps", pid, 0, NULL);
    char head[32];
    snprintf(head, sizeof head, "\n%llx-", (unsigned long long)page);
    char *r = smaps ? strstr(smaps, head) : NULL;
    if (!r && smaps && !strncmp(smaps, head + 1, strlen(head + 1)))
        r = smaps;
    char *flags = r ? strstr(r, "\nVmFlags:") : NULL;
    int32_t mcl = 0;
    if (flags) {
        char *eol = strchr(flags + 1, '\n');
        if (eol)
            *eol = 0;
        if (strstr(flags, " lo"))
            mcl = MCL_FUTURE | (strstr(flags, " lf") ? MCL_ONFAULT : 0);
    }
    free(smaps);
    return mcl;
}

/* Thread th (its injection begun) asks for its own sigaltstack and clear_child_tid. */
static int ask_thread(struct pt *t, struct cr_inject *in, struct pt_thread *th, uint64_t scratch)
{
    long ret;
    int rc;
    CALL(in, &ret, SYS_sigaltstack, 0, scratch, 0, 0);
    if (ret < 0) {
        rc = say(t, (int)-ret, "thread %d: sigaltstack: %s", (int)th->tid, strerror((int)-ret));
        goto out;
    }
    stack_t ss;
    if ((rc = read_remote(t, scratch, &ss, sizeof ss)) < 0)
        goto out;
    th->ss_sp = (uint64_t)(uintptr_t)ss.ss_sp;
    th->ss_size = ss.ss_size;
    th->ss_flags = (uint32_t)ss.ss_flags;
    CALL(in, &ret, SYS_prctl, PR_GET_TIMERSLACK, 0, 0, 0);
    th->timerslack = ret > 0 ? ret : 0;
    CALL(in, &ret, SYS_prctl, PR_GET_KEEPCAPS, 0, 0, 0);
    th->keepcaps = ret == 0 || ret == 1 ? (int32_t)ret : -1;
    CALL(in, &ret, SYS_personality, 0xffffffffL, 0, 0, 0);
    th->persona = ret >= 0 ? ret : -1;
    CALL(in, &ret, SYS_prctl, PR_GET_TSC, scratch, 0, 0);
    th->tsc = 0;
    if (ret == 0 && (rc = read_remote(t, scratch, &th->tsc, sizeof th->tsc)) < 0)
        goto out;
    /* (the I/O priority is read from outside: ioprio_get of a thread of the same user) */
    th->ioprio = (int32_t)syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, th->tid);
    CALL(in, &ret, SYS_prctl, PR_GET_TID_ADDRESS, scratch, 0, 0);
    if (ret < 0) {
        rc = say(t, (int)-ret, "thread %d: prctl(PR_GET_TID_ADDRESS): %s (the kernel needs "
                 "CONFIG_CHECKPOINT_RESTORE)", (int)th->tid, strerror((int)-ret));
        goto out;
    }
    rc = read_remote(t, scratch, &th->clear_tid, sizeof th->clear_tid);
out:
    return rc;
}

static int ask_process(struct pt *t, struct pt_asked *a)
{
    uint64_t ip;
    int rc = cr_inject_find_syscall(t->pid, &ip, t->msg, t->msglen);
    if (rc < 0)
        return rc;
    /* a signal that interrupted the injection mid-way must not end us with the
     * process's registers changed: the catchable ones wait */
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    struct cr_inject lead, other;
    long ret;
    uint64_t scratch = 0;
    rc = cr_inject_begin(&lead, t->th[0].tid, ip, t->msg, t->msglen);
    if (rc < 0)
        goto unblock;
    CALL(&lead, &ret, SYS_mmap, 0, SCRATCH_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    if (ret < 0 && ret > -4096) {
        rc = say(t, (int)-ret, "process %d cannot map a page for the checkpoint's questions: %s",
                 (int)t->pid, strerror((int)-ret));
        goto out;
    }
    scratch = (uint64_t)ret;
    a->mcl_future = mcl_future(t->pid, scratch);
    for (int sig = 1; sig < CTX_NSIG; sig++) {
        CALL(&lead, &ret, SYS_rt_sigaction, sig, 0, scratch, 8);
        if (ret == 0 && (rc = read_remote(t, scratch, a->sigactions[sig], sizeof a->sigactions[sig])) < 0)
            goto out;
    }
    for (int w = 0; w < 3; w++) {
        CALL(&lead, &ret, SYS_getitimer, w, scratch, 0, 0);
        if (ret == 0 && (rc = read_remote(t, scratch, a->itimer[w], sizeof a->itimer[w])) < 0)
            goto out;
    }
    CALL(&lead, &ret, SYS_brk, 0, 0, 0, 0);
    a->brk = (uint64_t)ret;
    for (int i = 0; i < CTX_NRLIMIT && i < RLIM_NLIMITS; i++) {
        CALL(&lead, &ret, SYS_prlimit64, 0, i, 0, scratch);
        if (ret < 0) {
            rc = say(t, (int)-ret, "process %d cannot tell its limit %d: %s", (int)t->pid, i,
                     strerror((int)-ret));
            goto out;
        }
        if ((rc = read_remote(t, scratch, a->rlim[i], sizeof a->rlim[i])) < 0)
            goto out;
    }
    CALL(&lead, &ret, SYS_prctl, PR_GET_PDEATHSIG, scratch, 0, 0);
    if (ret == 0 && (rc = read_remote(t, scratch, &a->pdeathsig, sizeof a->pdeathsig)) < 0)
        goto out;
    CALL(&lead, &ret, SYS_prctl, PR_GET_DUMPABLE, 0, 0, 0);
    a->dumpable = (int32_t)ret;
    CALL(&lead, &ret, SYS_prctl, PR_GET_THP_DISABLE, 0, 0, 0);
    a->thp_disable = ret == 0 || ret == 1 ? (int32_t)ret : -1;
    CALL(&lead, &ret, SYS_prctl, 66 /* PR_GET_MDWE, Linux 6.3 */, 0, 0, 0);
    a->mdwe = ret >= 0 ? (int32_t)ret : -1;
    /* a private expedited barrier works only once registered (EPERM before): how the
     * registrations are told, as the runtime does (thread_attrs.c) */
    static const int barriers[] = { MEMBARRIER_CMD_PRIVATE_EXPEDITED,
                                    MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE,
                                    MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ };
    for (int i = 0; i < 3; i++) {
        CALL(&lead, &ret, SYS_membarrier, barriers[i], 0, 0, 0);
        if (ret == 0)
            a->membarriers |= 1u << i;
    }
    CALL(&lead, &ret, SYS_prctl, PR_GET_CHILD_SUBREAPER, scratch, 0, 0);
    if (ret == 0 && (rc = read_remote(t, scratch, &a->subreaper, sizeof a->subreaper)) < 0)
        goto out;
    if ((rc = ask_thread(t, &lead, &t->th[0], scratch)) < 0)
        goto out;
    for (int i = 1; i < t->n; i++) {
        rc = cr_inject_begin(&other, t->th[i].tid, ip, t->msg, t->msglen);
        if (rc == 0)
            rc = ask_thread(t, &other, &t->th[i], scratch);
        char ignored[256];
        int end = cr_inject_end(&other, rc < 0 ? ignored : t->msg, rc < 0 ? sizeof ignored : t->msglen);
        if (rc == 0)
            rc = end;
        if (rc < 0)
            goto out;
    }
out:
    if (scratch) { /* gone before its memory is read */
        char ignored[256];
        long r2;
        int rc2 = cr_inject_call(&lead, &r2, SYS_munmap, (long)scratch, SCRATCH_LEN, 0, 0, 0, 0,
                                 ignored, sizeof ignored);
        if (rc == 0 && (rc2 < 0 || r2 < 0))
            rc = say(t, EIO, "cannot unmap the page the checkpoint mapped in process %d", (int)t->pid);
    }
    {
        char ignored[256];
        int end = cr_inject_end(&lead, rc < 0 ? ignored : t->msg, rc < 0 ? sizeof ignored : t->msglen);
        if (rc == 0)
            rc = end;
    }
unblock:
    sigprocmask(SIG_SETMASK, &old, NULL);
    return rc;
}

/* ---- the records ---- */

static int proc_record(struct pt *t, struct dump *d, const struct pt_asked *a)
{
    char exe[CTX_PATH_MAX], cwd[CTX_PATH_MAX], link[64];
    snprintf(link, sizeof link, "/proc/%d/exe", (int)t->pid);
    ssize_t n = readlink(link, exe, sizeof exe - 1);
    if (n < 0)
        return say(t, errno, "cannot read %s: %s", link, strerror(errno));
    exe[n] = 0;
    snprintf(link, sizeof link, "/proc/%d/cwd", (int)t->pid);
    ssize_t m = readlink(link, cwd, sizeof cwd - 1);
    if (m < 0)
        return say(t, errno, "cannot read %s: %s", link, strerror(errno));
    cwd[m] = 0;
    struct stat st;
    if (stat(exe, &st) < 0)
        return say(t, ENOTSUP, "the executable of process %d, %s, is gone from disk: the ptrace "
                   "backend cannot save it (run the program under cr_run)", (int)t->pid, exe);
    if (stat(cwd, &st) < 0 || !S_ISDIR(st.st_mode))
        return say(t, ENOTSUP, "the working directory of process %d, %s, was deleted: the ptrace "
                   "backend cannot save it (run the program under cr_run)", (int)t->pid, cwd);
    size_t exe_len = strlen(exe) + 1, cwd_len = strlen(cwd) + 1;
    struct ctx_proc *p = rec_add(d, CTX_REC_PROC, sizeof *p + exe_len + cwd_len);
    if (!p)
        return say(t, E2BIG, "too much metadata");
    d->proc = p;
    char *stat_text = slurp("/proc/%d/stat", t->pid, 0, NULL);
    char *status = slurp("/proc/%d/status", t->pid, 0, NULL);
    size_t auxv_len = 0;
    char *auxv = slurp("/proc/%d/auxv", t->pid, 0, &auxv_len);
    char *q = stat_text ? strrchr(stat_text, ')') : NULL;
    int rc = 0;
    if (!q || !status || !auxv) {
        rc = say(t, EIO, "cannot read /proc/%d/stat, status and auxv", (int)t->pid);
        goto out;
    }
    unsigned long long f[64] = { 0 };
    int field = 2;
    for (q++; *q && field < 52;) {
        while (*q == ' ')
            q++;
        field++;
        f[field] = strtoull(q, &q, 10);
        while (*q && *q != ' ')
            q++;
    }
    if (field < 51) {
        rc = say(t, EIO, "/proc/%d/stat has %d fields; the kernel is too old", (int)t->pid, field);
        goto out;
    }
    p->pid = t->pid;
    p->ppid = (int32_t)f[4], p->pgid = (int32_t)f[5], p->sid = (int32_t)f[6];
    unsigned tty = (unsigned)f[7], tmaj = (tty >> 8) & 0xfff, tmin = (tty & 0xff) | ((tty >> 12) & 0xfff00);
    if (tmaj >= 136 && tmaj <= 143)
        p->ctty_pts = (int32_t)((tmaj - 136) * 256 + tmin + 1);
    p->start_code = f[26], p->end_code = f[27], p->start_stack = f[28];
    p->start_data = f[45], p->end_data = f[46], p->start_brk = f[47];
    p->arg_start = f[48], p->arg_end = f[49], p->env_start = f[50], p->env_end = f[51];
    p->brk = a->brk;
    const char *u = strstr(status, "Uid:"), *g = strstr(status, "Gid:");
    unsigned ur = 0, ue = 0, gr = 0, ge = 0;
    if (!u || !g || sscanf(u, "Uid: %u %u", &ur, &ue) != 2 || sscanf(g, "Gid: %u %u", &gr, &ge) != 2) {
        rc = say(t, EIO, "cannot parse /proc/%d/status", (int)t->pid);
        goto out;
    }
    p->uid = ur, p->euid = ue, p->gid = gr, p->egid = ge;
    d->uid = ur;
    p->umask = (uint32_t)status_field(status, "Umask:", 8);
    p->no_new_privs = (int32_t)status_field(status, "NoNewPrivs:", 10);
    if (auxv_len > sizeof p->auxv) {
        rc = say(t, E2BIG, "auxv has %zu bytes", auxv_len);
        goto out;
    }
    memcpy(p->auxv, auxv, auxv_len);
    p->auxv_words = (uint32_t)(auxv_len / 8);
    for (int i = 0; i < CTX_NRLIMIT; i++)
        p->rlim_cur[i] = a->rlim[i][0], p->rlim_max[i] = a->rlim[i][1];
    memcpy(p->sigactions, a->sigactions, sizeof p->sigactions);
    memcpy(p->itimer, a->itimer, sizeof p->itimer);
    p->runtime_state = 0; /* no runtime: the threads resume from their registers */
    p->pdeathsig = a->pdeathsig;
    if (a->dumpable != 0 && a->dumpable != 1) {
        rc = say(t, EACCES, "process %d is dumpable by root only (PR_GET_DUMPABLE %d); no way "
                 "back to that value exists: refused", (int)t->pid, a->dumpable);
        goto out;
    }
    p->dumpable = a->dumpable;
    p->subreaper = a->subreaper;
    p->shared_pending = 0; /* (its signals are in CTX_REC_PENDING records) */
    if (stat(exe, &st) == 0)
        file_id_of(&st, &p->exe_id);
    char *comm = slurp("/proc/%d/comm", t->pid, 0, NULL);
    if (comm) {
        comm[strcspn(comm, "\n")] = 0;
        strncpy(p->comm, comm, sizeof p->comm - 1);
        free(comm);
    }
    p->exe_len = (uint32_t)exe_len;
    p->cwd_len = (uint32_t)cwd_len;
    memcpy(p + 1, exe, exe_len);
    memcpy((char *)(p + 1) + exe_len, cwd, cwd_len);
out:
    free(stat_text);
    free(status);
    free(auxv);
    return rc;
}

static int thread_records(struct pt *t, struct dump *d, const struct pt_asked *a)
{
    for (int i = 0; i < t->n; i++) {
        const struct pt_thread *th = &t->th[i];
        struct ctx_thread *r = rec_add(d, CTX_REC_THREAD, sizeof *r);
        if (!r)
            return say(t, E2BIG, "too much metadata");
        r->tid = th->tid;
        r->index = (uint32_t)i;
        r->fs_base = th->regs.fs_base;
        r->gs_base = th->regs.gs_base;
        r->clear_tid_addr = th->clear_tid;
        r->robust_head = th->robust_head;
        r->robust_len = th->robust_len;
        r->sigmask = th->sigmask;
        r->altstack_sp = th->ss_sp;
        r->altstack_size = th->ss_size;
        r->altstack_flags = th->ss_flags;
        memcpy(r->comm, th->comm, sizeof r->comm);
        struct ctx_thread_regs *g = rec_add(d, CTX_REC_THREAD_REGS, sizeof *g + th->xsave_len);
        if (!g)
            return say(t, E2BIG, "too much metadata");
        g->tid = th->tid;
        g->xsave_len = th->xsave_len;
        g->rseq_addr = th->rseq_addr;
        g->rseq_len = th->rseq_len;
        g->rseq_sig = th->rseq_sig;
        g->nice = th->nice;
        g->nice_ok = th->nice_ok;
        g->policy = th->policy;
        g->priority = th->priority;
        g->timerslack = th->timerslack;
        g->keepcaps = th->keepcaps;
        g->persona = th->persona;
        g->affinity_len = th->affinity_len;
        memcpy(g->affinity, th->affinity, sizeof g->affinity);
        g->ioprio = th->ioprio;
        g->tsc = th->tsc;
        if (i == 0) {
            g->mdwe = a->mdwe;
            g->mcl_future = a->mcl_future;
            g->proc_attrs = 1;
            g->membarriers = a->membarriers;
            g->thp_disable = a->thp_disable;
            char *oom = slurp("/proc/%d/oom_score_adj", t->pid, 0, NULL);
            g->oom_score_adj = oom ? (int32_t)strtol(oom, NULL, 10) : -1001;
            free(oom);
        }
        _Static_assert(sizeof th->regs == sizeof g->regs, "user_regs_struct");
        memcpy(g->regs, &th->regs, sizeof g->regs);
        memcpy(g + 1, th->xsave, th->xsave_len);
        for (int shared = 0; shared < 2; shared++) {
            if (!th->npending[shared])
                continue;
            size_t bytes = (size_t)th->npending[shared] * CTX_SIGINFO_SIZE;
            struct ctx_pending *pd = rec_add(d, CTX_REC_PENDING, sizeof *pd + bytes);
            if (!pd)
                return say(t, E2BIG, "too much metadata");
            pd->tid = th->tid;
            pd->shared = (uint32_t)shared;
            pd->count = th->npending[shared];
            memcpy(pd + 1, th->pending[shared], bytes);
        }
    }
    d->proc->nthreads = (uint32_t)t->n;
    return 0;
}

/* What the ptrace backend refuses outright, naming it: state the runtime saves from
 * inside and that no call from outside can read back. */
static int refuse_unsupported(struct pt *t)
{
    char *timers = slurp("/proc/%d/timers", t->pid, 0, NULL);
    int has_timers = timers && *timers;
    free(timers);
    if (has_timers)
        return say(t, ENOTSUP, "process %d has POSIX timers (timer_create): the ptrace backend "
                   "cannot save them; run the program under cr_run", (int)t->pid);
    /* seccomp: a filter cannot be read back without CAP_SYS_ADMIN, and the calls made in
     * the process below would kill a thread in strict mode; filters the process has
     * beyond ours (cr_restart, started the same way, has ours) are its own */
    char *mine = slurp("/proc/self/status", 0, 0, NULL);
    long my_filters = mine ? (long)status_field(mine, "Seccomp_filters:", 10) : 0;
    free(mine);
    for (int i = 0; i < t->n; i++) {
        char *status = slurp("/proc/%d/task/%d/status", t->pid, t->th[i].tid, NULL);
        long mode = status ? (long)status_field(status, "Seccomp:", 10) : 0;
        long filters = status ? (long)status_field(status, "Seccomp_filters:", 10) : 0;
        free(status);
        if (mode == 1)
            return say(t, ENOTSUP, "thread %d of process %d is in seccomp strict mode: the calls "
                       "the ptrace backend makes in the process would kill it; nothing was done "
                       "to the process", (int)t->th[i].tid, (int)t->pid);
        if (mode == 2 && filters > my_filters)
            return say(t, ENOTSUP, "thread %d of process %d has seccomp filters of its own (%ld, "
                       "cr_checkpoint has %ld): a filter cannot be read back (that needs "
                       "CAP_SYS_ADMIN), so a restart would lose it; nothing was done to the process",
                       (int)t->th[i].tid, (int)t->pid, filters, my_filters);
    }
    return 0;
}

/* ---- 4. the helper: fds under their own numbers, memory, the file ---- */

struct pt_fd {
    int target;                /* its number in the process */
    int local;                 /* our copy (pidfd_getfd), above every number of theirs */
    int cloexec;
};

static int vmas_remote(struct dump *d, const char *exe)
{
    char *text = d->scratch + TEXT_OFF;
    char path[64];
    snprintf(path, sizeof path, "%s/maps", d->proc_dir);
    if (read_file(d, path, text, TEXT_SIZE) < 0)
        return -EIO;
    uint32_t index = 0;
    for (char *line = text; *line;) {
        char *eol = strchr(line, '\n');
        if (eol)
            *eol = 0;
        unsigned long long start, end, pgoff, ino;
        char perms[5];
        unsigned dmaj, dmin;
        int pathpos = 0;
        if (sscanf(line, "%llx-%llx %4s %llx %x:%x %llu %n", &start, &end, perms, &pgoff, &dmaj,
                   &dmin, &ino, &pathpos) < 7)
            return fail(d, EIO, "cannot parse %s line: %s", path, line);
        const char *mpath = pathpos ? line + pathpos : "";
        line = eol ? eol + 1 : line + strlen(line);
        struct ctx_vma tmp = { .start = start, .end = end, .pgoff = pgoff };
        tmp.prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
                   (perms[2] == 'x' ? PROT_EXEC : 0);
        tmp.flags = cr_dump_region_flags(d, start);
        int rc = cr_dump_classify_vma(d, &tmp, perms[3], dmaj, dmin, ino, mpath);
        if (rc < 0)
            return rc;
        if (!(tmp.flags & CTX_VMA_SYSV))
            tmp.flags &= ~(uint32_t)CTX_VMA_MAYWRITE;
        if (tmp.kind >= CTX_VMA_VDSO)
            tmp.flags &= ~(uint32_t)(CTX_VMA_ADVICE | CTX_VMA_SEALED);
        int named = tmp.kind == CTX_VMA_FILE_PRIVATE || tmp.kind == CTX_VMA_FILE_SHARED ||
                    (tmp.kind == CTX_VMA_SHARED_ANON && mpath[0] == '/');
        size_t plen = named ? strlen(mpath) + 1 : 0;
        struct ctx_vma *v = rec_add(d, CTX_REC_VMA, sizeof *v + plen);
        if (!v)
            return fail(d, E2BIG, "too much metadata");
        *v = tmp;
        v->path_len = (uint32_t)plen;
        memcpy(v + 1, mpath, plen);
        if (v->kind == CTX_VMA_VDSO) {
            size_t len = end - start;
            char *buf = d->scratch + BOUNCE_OFF;
            if (len > BOUNCE_SIZE || pread(d->mem_fd, buf, len, (off_t)start) != (ssize_t)len)
                return fail(d, EIO, "cannot read the vdso of the process");
            d->proc->vdso_crc = crc32c(0, buf, len);
        }
        if (((v->kind == CTX_VMA_FILE_PRIVATE && ((d->save & CR_CTL_SAVE_PRIVATE) ||
              ((d->save & CR_CTL_SAVE_EXE) && !strcmp(mpath, exe)))) ||
             (v->kind == CTX_VMA_FILE_SHARED && (d->save & CR_CTL_SAVE_SHARED))) &&
            (v->prot & PROT_READ))
            v->flags |= CTX_VMA_SAVED;
        if (v->kind < CTX_VMA_VDSO) {
            rc = cr_dump_pages(d, v, index);
            if (rc < 0)
                return rc;
        }
        index++;
    }
    d->proc->nvmas = index;
    return 0;
}

/* The fds of the helper, as the process has them, each saved by its kind. */
static int fds_remote(struct dump *d, pid_t pid, const struct pt_fd *fds, int nfds)
{
    struct fd_scan *s = (struct fd_scan *)(d->scratch + TEXT_OFF + 4 * MiB);
    memset(s, 0, sizeof *s);
    int *list = (int *)(d->scratch + TEXT_OFF + 65536);
    for (int i = 0; i < nfds; i++)
        list[i] = fds[i].target;
    s->fds = list;
    s->nfds = nfds;
    int rc = 0;
    for (const struct cr_fd_ops *const *k = cr_fd_kinds; rc == 0 && *k; k++)
        if ((*k)->scan)
            rc = (*k)->scan(d, s, list, nfds);
    for (int i = 0; rc == 0 && i < nfds; i++) {
        /* a POSIX lock is the process's, not its file's: our copy would not show it */
        char path[64], info[8192];
        snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", (int)pid, fds[i].target);
        int fi = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fi >= 0 ? read(fi, info, sizeof info - 1) : -1;
        if (fi >= 0)
            close(fi);
        info[n > 0 ? n : 0] = 0;
        if (strstr(info, "POSIX"))
            return fail(d, ENOTSUP, "fd %d holds a POSIX record lock (fcntl F_SETLK), which the "
                        "ptrace backend cannot save: run the program under cr_run", fds[i].target);
        rc = cr_dump_one_fd(d, s, fds[i].target);
    }
    tcp_backlog_done();
    return rc;
}

/* In the helper (a child of ours): the process's fds under their numbers, then the
 * engine's dumper.  Its failure is said in d->child_msg. */
static __attribute__((noreturn)) void helper(struct dump *d, pid_t pid, struct pt_fd *fds, int nfds,
                                             int low, int out, const char *exe, pid_t parent)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0); /* the threads are detached by our end */
    prctl(PR_SET_NAME, "cr-ptrace-dump", 0, 0, 0);
    if (getppid() != parent) /* ended before we could ask to end with it */
        _exit(1);
    d->msg = d->child_msg;
    d->msglen = sizeof d->child_msg;
    /* ours go above `low`, every fd below it goes: the numbers are the process's */
    int rc = 0;
    int *mine[] = { &out, &d->mem_fd, &d->pagemap_fd };
    for (size_t i = 0; i < sizeof mine / sizeof *mine; i++) {
        int moved = fcntl(*mine[i], F_DUPFD_CLOEXEC, low);
        if (moved < 0)
            rc = fail(d, errno, "cannot move the dump's own fds: %s", strerror(errno));
        *mine[i] = moved;
    }
    for (int fd = 0; fd < low; fd++)
        close(fd);
    for (int i = 0; rc == 0 && i < nfds; i++)
        if (dup3(fds[i].local, fds[i].target, fds[i].cloexec ? O_CLOEXEC : 0) < 0)
            rc = fail(d, errno, "cannot take fd %d of the process: %s", fds[i].target, strerror(errno));
    for (int i = 0; i < nfds; i++)
        close(fds[i].local);
    if (rc == 0)
        rc = fds_remote(d, pid, fds, nfds);
    if (rc == 0)
        rc = cr_dump_regions(d);
    if (rc == 0)
        rc = vmas_remote(d, exe);
    for (int i = 0; rc == 0 && i < d->ndeleted; i++)
        rc = deleted_file_blocks(d, i);
    if (rc == 0 && d->nblocks * 4 + 8 > CRCS_SIZE)
        rc = fail(d, E2BIG, "too many memory blocks");
    if (rc == 0)
        rc = cr_dump_write_plain(d, out, &d->child_bytes);
    d->child_err = rc < 0 ? -rc : 0;
    _exit(rc < 0 ? 1 : 0);
}

/* Copies of the process's fds (pidfd_getfd), each above `low`. */
static int take_fds(struct pt *t, struct pt_fd **out, int *nout, int *low)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)t->pid);
    DIR *dir = opendir(path);
    if (!dir)
        return say(t, errno, "cannot list the fds of process %d: %s", (int)t->pid, strerror(errno));
    int cap = 64, n = 0, maxfd = -1;
    struct pt_fd *fds = malloc(cap * sizeof *fds);
    struct dirent *e;
    while (fds && (e = readdir(dir))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        if (n == cap) {
            struct pt_fd *more = realloc(fds, (cap *= 2) * sizeof *fds);
            if (!more) {
                free(fds);
                fds = NULL;
                break;
            }
            fds = more;
        }
        fds[n].target = atoi(e->d_name);
        fds[n].local = -1;
        if (fds[n].target > maxfd)
            maxfd = fds[n].target;
        n++;
    }
    closedir(dir);
    if (!fds)
        return say(t, ENOMEM, "out of memory");
    *out = fds;
    *nout = 0;
    /* our own fds must not sit on their numbers in the helper: all of ours go above */
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    int ours = 0;
    DIR *self = opendir("/proc/self/fd");
    while (self && (e = readdir(self)))
        if (atoi(e->d_name) > ours)
            ours = atoi(e->d_name);
    if (self)
        closedir(self);
    *low = (maxfd > ours ? maxfd : ours) + 1;
    if ((rlim_t)(*low + n + 64) > rl.rlim_cur) {
        rl.rlim_cur = rl.rlim_max;
        if ((rlim_t)(*low + n + 64) > rl.rlim_max || setrlimit(RLIMIT_NOFILE, &rl) < 0)
            return say(t, EMFILE, "process %d has fd %d: more than our limit of open files "
                       "(ulimit -n) lets us copy", (int)t->pid, maxfd);
    }
    int pidfd = (int)syscall(SYS_pidfd_open, t->pid, 0);
    if (pidfd < 0)
        return say(t, errno, "pidfd_open(%d): %s", (int)t->pid, strerror(errno));
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        int got = (int)syscall(SYS_pidfd_getfd, pidfd, fds[i].target, 0);
        if (got < 0 && errno == EBADF)
            continue; /* closed meanwhile by... nobody: the process is stopped */
        if (got < 0) {
            rc = say(t, errno, "cannot take a copy of fd %d of process %d (pidfd_getfd): %s",
                     fds[i].target, (int)t->pid, strerror(errno));
            break;
        }
        int high = fcntl(got, F_DUPFD_CLOEXEC, *low);
        close(got);
        if (high < 0) {
            rc = say(t, errno, "cannot keep a copy of fd %d: %s", fds[i].target, strerror(errno));
            break;
        }
        char info[512];
        snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", (int)t->pid, fds[i].target);
        int fi = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t len = fi >= 0 ? read(fi, info, sizeof info - 1) : -1;
        if (fi >= 0)
            close(fi);
        info[len > 0 ? len : 0] = 0;
        fds[*nout] = (struct pt_fd){ fds[i].target, high,
                                     (int)(status_field(info, "flags:", 8) & O_CLOEXEC) != 0 };
        (*nout)++;
    }
    close(pidfd);
    return rc;
}

struct cr_ptrace_proc {
    struct pt t;
};

int cr_ptrace_seize(pid_t pid, unsigned timeout_ms, struct cr_ptrace_proc **out, char *msg,
                    size_t msglen)
{
    struct cr_ptrace_proc *p = calloc(1, sizeof *p);
    *out = NULL;
    if (!p)
        return -ENOMEM;
    struct pt *t = &p->t;
    *t = (struct pt){ .pid = pid, .msg = msg, .msglen = msglen, .mem = -1 };
    int rc = seize_all(t, timeout_ms);
    if (rc < 0) {
        cr_ptrace_release(p, 0);
        return rc;
    }
    *out = p;
    return 0;
}

void cr_ptrace_release(struct cr_ptrace_proc *p, int signal)
{
    if (!p)
        return;
    struct pt *t = &p->t;
    /* sent while it is held: a SIGKILL ends it before it runs another instruction */
    if (signal && t->n)
        kill(t->pid, signal);
    if (t->mem >= 0)
        close(t->mem);
    detach_all(t); /* they run on from where they were stopped */
    for (int i = 0; t->th && i < t->n; i++) {
        free(t->th[i].xsave);
        free(t->th[i].pending[0]);
        free(t->th[i].pending[1]);
    }
    free(t->th);
    free(p);
}

int cr_ptrace_checkpoint(pid_t pid, int out, unsigned flags, unsigned timeout_ms, uint64_t *bytes,
                         char *msg, size_t msglen)
{
    struct cr_ptrace_proc *p;
    int rc = cr_ptrace_seize(pid, timeout_ms, &p, msg, msglen);
    if (rc < 0)
        return rc;
    rc = cr_ptrace_dump(p, out, flags, NULL, bytes, msg, msglen);
    cr_ptrace_release(p, 0);
    return rc;
}

int cr_ptrace_dump(struct cr_ptrace_proc *proc, int out, unsigned flags,
                   const struct cr_ctl_prepare *tree, uint64_t *bytes, char *msg, size_t msglen)
{
    struct pt *t = &proc->t;
    t->msg = msg;
    t->msglen = msglen;
    pid_t pid = t->pid;
    struct pt_asked *asked = calloc(1, sizeof *asked);
    struct pt_fd *fds = NULL;
    int nfds = 0, low = 0;
    struct dump *d = NULL;
    char *scratch = MAP_FAILED;
    int rc = asked ? 0 : say(t, ENOMEM, "out of memory");
    if (rc == 0 && t->mem < 0) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
        t->mem = open(path, O_RDONLY | O_CLOEXEC);
        if (t->mem < 0)
            rc = say(t, errno, "cannot open %s: %s", path, strerror(errno));
    }
    if (rc == 0)
        rc = refuse_unsupported(t);
    for (int i = 0; rc == 0 && i < t->n; i++)
        rc = read_thread(t, &t->th[i]);
    if (rc == 0)
        rc = ask_process(t, asked);
    if (rc == 0) {
        scratch = mmap(NULL, SCRATCH_SIZE, PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (scratch == MAP_FAILED)
            rc = say(t, errno, "allocating %lu MiB of scratch memory", SCRATCH_SIZE / MiB);
    }
    if (rc == 0) {
        d = (struct dump *)(scratch + STATE_OFF);
        memset(d, 0, sizeof *d);
        d->scratch = scratch;
        d->msg = msg;
        d->msglen = msglen;
        d->blocks = (struct ctx_block *)(scratch + BLOCKS_OFF);
        d->crcs = (uint32_t *)(scratch + CRCS_OFF);
        d->sockets_refuse = (flags & CR_CTL_SOCKETS_REFUSE) != 0;
        /* a Slurm step's task (the node agent, every task frozen): a connection to
         * another task is the step's, saved at both ends (resources/step_conn.c) */
        d->step = (flags & CR_CTL_STEP) != 0;
        d->pipes_refuse = (flags & CR_CTL_PIPES_REFUSE) != 0;
        d->sync = !(flags & CR_CTL_NOSYNC);
        d->save = flags & (CR_CTL_SAVE_EXE | CR_CTL_SAVE_PRIVATE | CR_CTL_SAVE_SHARED);
        d->remote = 1;
        d->hdr_flags = CTX_HDR_PTRACE;
        d->tree = tree; /* what the tree's other processes share with this one */
        snprintf(d->proc_dir, sizeof d->proc_dir, "/proc/%d", (int)pid);
        d->mem_fd = t->mem;
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/pagemap", (int)pid);
        d->pagemap_fd = open(path, O_RDONLY | O_CLOEXEC);
        if (d->pagemap_fd < 0)
            rc = say(t, errno, "cannot open %s: %s", path, strerror(errno));
    }
    if (rc == 0)
        rc = proc_record(t, d, asked);
    if (rc == 0)
        rc = thread_records(t, d, asked);
    if (rc == 0)
        rc = take_fds(t, &fds, &nfds, &low);
    if (rc == 0) {
        const char *exe = (const char *)(d->proc + 1);
        char exe_copy[CTX_PATH_MAX];
        snprintf(exe_copy, sizeof exe_copy, "%s", exe);
        fflush(NULL);
        pid_t parent = getpid(), child = fork();
        if (child == 0)
            helper(d, pid, fds, nfds, low, out, exe_copy, parent);
        int st = 0;
        if (child < 0)
            rc = say(t, errno, "cannot start the dump's helper: %s", strerror(errno));
        while (child > 0 && waitpid(child, &st, 0) < 0 && errno == EINTR)
            ;
        if (rc == 0 && !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
            if (d->child_err) /* the engine's messages, as the runtime's: with the errno's */
                rc = say(t, d->child_err, "%s: %s", d->child_msg, strerror(d->child_err));
            else
                rc = say(t, EIO, "the dump's helper ended (wait status 0x%x)", st);
        }
        *bytes = d->child_bytes;
    }
    for (int i = 0; i < nfds; i++)
        close(fds[i].local);
    free(fds);
    if (d && d->pagemap_fd >= 0)
        close(d->pagemap_fd);
    if (scratch != MAP_FAILED)
        munmap(scratch, SCRATCH_SIZE);
    if (t->mem >= 0) /* (a tree holds many processes: no fd kept per process) */
        close(t->mem);
    t->mem = -1;
    free(asked);
    return rc;
}
