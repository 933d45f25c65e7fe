/* Stopping every thread but the manager inside the quiesce signal handler, and
 * letting them go again.
 *
 * A thread stops inside the handler: it records what the kernel keeps outside memory
 * (fs base, robust list, tid address, mask, altstack), runs its signal-context
 * callbacks, takes a snapshot of its callee-saved registers and parks on a futex.
 * Everything else, including the full register and FPU state of the interrupted code
 * (the signal frame), is in memory and is dumped with it.  The restorer rebuilds each
 * thread at its snapshot, where cr_snapshot() returns 1; the thread then redoes its
 * kernel-side state, waits for the manager and returns from the handler, and
 * rt_sigreturn puts back the interrupted context exactly. */
#define _GNU_SOURCE
#include "runtime.h"
#include "pid_map.h"
#include "parked_help.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>
#include <asm/prctl.h>

#include "callbacks.h"

#define RSEQ_SIG_X86 0x53053053

extern int __sigaction(int sig, const struct sigaction *act, struct sigaction *old);
extern const ptrdiff_t __rseq_offset __attribute__((weak));
extern const unsigned int __rseq_size __attribute__((weak));

void cr_futex_wait(uint32_t *addr, uint32_t val, int timeout_ms)
{
    struct timespec ts = { timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L };
    syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, timeout_ms < 0 ? NULL : &ts, NULL, 0);
}

void cr_futex_wake(uint32_t *addr)
{
    syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

/* The same across processes (a snapshot child and its process share the word). */
void cr_futex_wait_shared(uint32_t *addr, uint32_t val, int timeout_ms)
{
    struct timespec ts = { timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L };
    syscall(SYS_futex, addr, FUTEX_WAIT, val, timeout_ms < 0 ? NULL : &ts, NULL, 0);
}

void cr_futex_wake_shared(uint32_t *addr)
{
    syscall(SYS_futex, addr, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static pid_t sys_gettid(void) { return (pid_t)syscall(SYS_gettid); }

ssize_t cr_read_text(const char *path, char *buf, size_t cap)
{
    int g = cr_fd_guard_begin(); /* (the program may be running: runtime.c) */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, cap - 1);
    if (fd >= 0)
        close(fd);
    cr_fd_guard_end(g);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    return n;
}

int cr_each_number(const char *path, int (*each)(long n, void *arg), void *arg)
{
    int g = cr_fd_guard_begin(); /* (the program may be running: runtime.c) */
    int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        cr_fd_guard_end(g);
        return -1;
    }
    char buf[4096] __attribute__((aligned(8)));
    long got;
    int stop = 0;
    while (!stop && (got = syscall(SYS_getdents64, dfd, buf, sizeof buf)) > 0)
        for (long off = 0; !stop && off < got;) {
            struct dirent64 *de = (struct dirent64 *)(buf + off);
            off += de->d_reclen;
            if (de->d_name[0] >= '0' && de->d_name[0] <= '9')
                stop = each(strtol(de->d_name, NULL, 10), arg);
        }
    close(dfd);
    cr_fd_guard_end(g);
    return stop;
}

uint64_t cr_now_ms(void)
{
    struct timespec ts;
    /* by system call: the program may have unmapped its vdso (vdso_unmapped) */
    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}


void cr_record_thread(struct cr_thread_slot *s, ucontext_t *uc)
{
    uint64_t v = 0;
    size_t len = 0;
    s->uc = uc;
    syscall(SYS_arch_prctl, ARCH_GET_FS, &s->fs_base);
    prctl(PR_GET_TID_ADDRESS, &v, 0, 0, 0);
    s->clear_tid = v;
    void *head = NULL;
    syscall(SYS_get_robust_list, 0, &head, &len);
    s->robust_head = (uint64_t)(uintptr_t)head;
    s->robust_len = len;
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &s->sigmask, sizeof s->sigmask);
    s->pending = 0;
    syscall(SYS_rt_sigpending, &s->pending, sizeof s->pending);
    s->pending &= ~(1ULL << (crt.signum - 1));
    syscall(SYS_sigaltstack, NULL, &s->altstack);
    prctl(PR_GET_NAME, s->comm, 0, 0, 0);
    cr_attrs_save_thread(&s->attrs);
    cr_pending_save_thread(s);
}

void cr_thread_fixup(const struct cr_thread_slot *s)
{
    if (&__rseq_size && &__rseq_offset && __rseq_size > 0) {
        char *tp;
        __asm__("mov %%fs:0, %0" : "=r"(tp));
        unsigned len = __rseq_size < 32 ? 32 : __rseq_size;
        syscall(SYS_rseq, tp + __rseq_offset, len, 0, RSEQ_SIG_X86);
    }
    if (s->robust_head)
        syscall(SYS_set_robust_list, (void *)(uintptr_t)s->robust_head, (size_t)s->robust_len);
    prctl(PR_SET_NAME, s->comm, 0, 0, 0);
    cr_attrs_restore_thread(&s->attrs);
    /* pending again (blocked while in the handler, delivered or kept when it returns) */
    cr_pending_restore_thread(s);
}

static struct cr_thread_slot *find_slot(pid_t tid)
{
    uint32_t n = __atomic_load_n(&crt.nslots, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < n; i++)
        if (crt.slots[i].tid == tid)
            return &crt.slots[i];
    return NULL;
}

/* The deepest point of a thread's checkpoint: snapshot, park, and come back with
 * 0 (continuing), 1 (restored) or the failure of a cancelled checkpoint. */
static int park(void *arg)
{
    struct cr_thread_slot *s = arg;
    uint32_t gen = s->gen; /* as the handler found it: a release since then is not missed */
    int restored = cr_snapshot(&s->resume) != 0;
    if (!restored) {
        __atomic_store_n(&s->parked, 1, __ATOMIC_RELEASE);
        __atomic_add_fetch(&crt.nparked, 1, __ATOMIC_ACQ_REL);
        cr_futex_wake(&crt.nparked);
    } else {
        pid_t old = s->tid;
        s->tid = sys_gettid(); /* its new tid: POSIX timers aimed at it are aimed again */
        cr_thread_fixup(s);
        cr_robust_new_tid(s->robust_head, old, s->tid); /* the robust mutexes it holds */
        __atomic_add_fetch(&crt.nresumed, 1, __ATOMIC_ACQ_REL);
        cr_futex_wake(&crt.nresumed);
    }
    while (__atomic_load_n(&crt.gen, __ATOMIC_ACQUIRE) == gen) {
        cr_pending_leader_task(); /* the main thread: the process's signals, when asked */
        if (!restored)
            cr_help_offer(); /* the dump's page table walks, when it shares them */
        cr_futex_wait(&crt.gen, gen, -1);
    }
    if (!restored) /* the signals it took are pending again before the program runs */
        cr_pending_restore_thread(s);
    return restored ? 1 : __atomic_load_n(&crt.result, __ATOMIC_ACQUIRE);
}

/* A blocking call that the kernel never restarts after a handler (poll, select,
 * epoll_wait, pause, sigsuspend, nanosleep...) returns EINTR because of our signal,
 * which the program never sent: make it run again.  Only the usual `mov $NR, %eax;
 * syscall` of libc is recognised, as the syscall number is gone from the registers;
 * a sleep goes on with the time it had left when the kernel wrote it back.
 * Except in a thread that called cr_init() (`api_thread`): BLCR's checkpoint signal
 * went to such a thread and ended its pause() or sigsuspend() with EINTR, which
 * programs written for BLCR wait for (to look at their state after a checkpoint or
 * a restart); those two calls are for waiting for any handled signal, so they end. */
static void restart_interrupted(ucontext_t *uc, int api_thread)
{
    greg_t *g = uc->uc_mcontext.gregs;
    if (g[REG_RAX] != -EINTR)
        return;
    unsigned char code[7]; /* read without faulting: the bytes may not be mapped */
    struct iovec here = { code, sizeof code }, there = { (void *)(uintptr_t)(g[REG_RIP] - 7), 7 };
    if (syscall(SYS_process_vm_readv, getpid(), &here, 1, &there, 1, 0) != 7 ||
        code[5] != 0x0f || code[6] != 0x05 || code[0] != 0xb8)
        return;
    uint32_t nr;
    memcpy(&nr, code + 1, 4);
    if (api_thread && (nr == SYS_pause || nr == SYS_rt_sigsuspend))
        return;
    switch (nr) {
    case SYS_poll: case SYS_ppoll: case SYS_select: case SYS_pselect6:
    case SYS_epoll_wait: case SYS_epoll_pwait: case SYS_pause: case SYS_rt_sigsuspend:
#ifdef SYS_epoll_pwait2
    case SYS_epoll_pwait2:
#endif
        break;
    case SYS_nanosleep: /* (req, rem): on with what is left, when it was asked for */
        if (!g[REG_RSI])
            return;
        g[REG_RDI] = g[REG_RSI];
        break;
    case SYS_clock_nanosleep: /* (clock, flags, req, rem): an absolute time stays */
        if (!(g[REG_RSI] & TIMER_ABSTIME)) {
            if (!g[REG_R10])
                return;
            g[REG_RDX] = g[REG_R10];
        }
        break;
    default:
        return;
    }
    g[REG_RAX] = nr;
    g[REG_RIP] -= 2;
}

static void quiesce_handler(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    (void)si;
    int saved_errno = errno;
    struct cr_thread_slot *s;
    uint32_t gen = __atomic_load_n(&crt.gen, __ATOMIC_ACQUIRE);
    if (!__atomic_load_n(&crt.freezing, __ATOMIC_ACQUIRE) || !(s = find_slot(sys_gettid()))) {
        errno = saved_errno;
        return;
    }
    s->gen = gen;
    cr_record_thread(s, ucv);
    struct cr_pid_args waiting_for;
    cr_pid_args_save(ucv, &waiting_for);
    struct cri_thread *t = cri_current();
    int r;
    if (t && t->nsc) {
        struct cri_chain c = { t, t->sc, t->nsc, 1, 1, park, s };
        r = cri_run_chain(&c);
    } else {
        r = park(s);
    }
    cri_run_hook(r == 1, 0);
    restart_interrupted(ucv, t != NULL);
    cr_pid_args_restore(ucv, &waiting_for);
    errno = saved_errno;
}

int cr_quiesce_install(void)
{
    return cr_signal_choose(quiesce_handler);
}

/* A thread of /proc/self/task as the process itself numbers it: /proc is the host's,
 * and a restarted tree lives in a pid namespace of its own. */
static pid_t own_tid(int dfd, const char *name)
{
    pid_t tid = (pid_t)strtol(name, NULL, 10);
    char self[32];
    ssize_t n = readlink("/proc/self", self, sizeof self - 1);
    if (n > 0 && (self[n] = 0, atoi(self) == getpid()))
        return tid; /* the same numbers */
    char path[300], buf[2048];
    snprintf(path, sizeof path, "%s/status", name);
    int fd = openat(dfd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    char *line = strstr(buf, "\nNSpid:");
    if (!line)
        return tid;
    char *eol = strchr(line + 1, '\n');
    if (eol)
        *eol = 0;
    char *last = strrchr(line, '\t');
    return last ? (pid_t)strtol(last + 1, NULL, 10) : tid;
}

/* Whether the thread blocks the quiesce signal: only a raw rt_sigprocmask can, past
 * the runtime's wrapper (quiesce_signal.c); *seccomp, the seccomp the program put it
 * under itself: 1 strict mode, 2 filters beyond those the process started with (its
 * launcher's, a container's, which cr_restart runs under too), else 0. */
static int blocks_quiesce(int dfd, const char *name, int *seccomp)
{
    char path[300], buf[4096];
    *seccomp = 0;
    snprintf(path, sizeof path, "%s/status", name);
    int fd = openat(dfd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    char *sc = strstr(buf, "\nSeccomp:"), *fl = strstr(buf, "\nSeccomp_filters:");
    int mode = sc ? (int)strtol(sc + 9, NULL, 10) : 0, filters = fl ? (int)strtol(fl + 17, NULL, 10) : -1;
    if (mode == 1)
        *seccomp = 1;
    else if (mode == 2 && (crt.seccomp_at_start == 0 ||
                           (filters >= 0 && crt.seccomp_filters_at_start >= 0 &&
                            filters > crt.seccomp_filters_at_start)))
        *seccomp = 2;
    char *blk = strstr(buf, "\nSigBlk:");
    return blk && (strtoull(blk + 8, NULL, 16) >> (crt.signum - 1) & 1);
}

/* The process tracing this one (TracerPid), or 0. */
static pid_t tracer_of_self(void)
{
    char buf[2048];
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    char *t = strstr(buf, "\nTracerPid:");
    return t ? (pid_t)strtol(t + 11, NULL, 10) : 0;
}

/* Adds the threads not yet known to the slots and signals them; returns how many. */
static int signal_new_threads(char *msg, size_t msglen)
{
    int dfd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        snprintf(msg, msglen, "opening /proc/self/task");
        return -errno;
    }
    char buf[4096];
    int added = 0;
    long n;
    while ((n = syscall(SYS_getdents64, dfd, buf, sizeof buf)) > 0) {
        for (long off = 0; off < n;) {
            struct dirent64 *d = (struct dirent64 *)(buf + off);
            off += d->d_reclen;
            if (d->d_name[0] < '0' || d->d_name[0] > '9')
                continue;
            pid_t tid = own_tid(dfd, d->d_name);
            if (tid <= 0 || tid == crt.manager_tid || find_slot(tid))
                continue;
            /* a thread under seccomp would be killed by its filter (strict mode allows
             * only read, write, exit and sigreturn) for the calls the freeze makes in it,
             * and a filter cannot be read back to be restored: never signaled */
            int seccomp, blocked = blocks_quiesce(dfd, d->d_name, &seccomp);
            if (seccomp) {
                close(dfd);
                snprintf(msg, msglen, "thread %d runs under seccomp (%s): the freeze would "
                         "have it killed%s, so it is not stopped; the process keeps running",
                         (int)tid, seccomp == 1 ? "strict mode" : "a filter the program added",
                         seccomp == 1 ? "" : " if its filter forbids what the freeze calls, "
                         "and a filter cannot be read back without CAP_SYS_ADMIN to be restored");
                return -ENOTSUP;
            }
            if (crt.nslots >= CR_MAX_THREADS) {
                close(dfd);
                snprintf(msg, msglen, "more than %d threads", CR_MAX_THREADS);
                return -E2BIG;
            }
            struct cr_thread_slot *s = &crt.slots[crt.nslots];
            memset(s, 0, sizeof *s);
            s->tid = tid;
            __atomic_store_n(&crt.nslots, crt.nslots + 1, __ATOMIC_RELEASE);
            if (!(blocked && cr_signal_setxid_stop(tid) == 0) &&
                syscall(SYS_tgkill, crt.pid, tid, crt.signum) < 0)
                s->tid = -1; /* it has exited meanwhile */
            added++;
        }
    }
    close(dfd);
    return added;
}

void cr_release_threads(int32_t result)
{
    cr_pending_restore_thread(&crt.manager);
    cr_pending_release();
    __atomic_store_n(&crt.result, result, __ATOMIC_RELEASE);
    __atomic_store_n(&crt.freezing, 0, __ATOMIC_RELEASE);
    __atomic_add_fetch(&crt.gen, 1, __ATOMIC_ACQ_REL);
    cr_futex_wake(&crt.gen);
}

/* Stops every other thread inside the handler; a thread that exits meanwhile is
 * dropped.  Repeats the scan until it finds no new thread. */
static int freeze_threads(unsigned timeout_ms, char *msg, size_t msglen)
{
    crt.nslots = 0;
    crt.nparked = 0;
    cr_pending_reset();
    __atomic_store_n(&crt.freezing, 1, __ATOMIC_SEQ_CST);
    uint64_t deadline = cr_now_ms() + timeout_ms;
    /* no signal while a thread starts another program (it would outlive the exec and
     * kill the new one; if the exec works, this thread ends with it) or moves the
     * quiesce signal (quiesce_signal.c) */
    while (__atomic_load_n(&crt.quiet, __ATOMIC_SEQ_CST)) {
        if (cr_now_ms() >= deadline) {
            snprintf(msg, msglen, "a thread was starting another program (exec) for more than "
                     "%u ms; the process keeps running", timeout_ms);
            return -EBUSY;
        }
        struct timespec ts = { 0, 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    for (;;) {
        cr_fd_section_begin(); /* the application runs: see runtime.c */
        int added = signal_new_threads(msg, msglen);
        cr_fd_section_end();
        if (added < 0)
            return added;
        for (;;) {
            uint32_t seen = __atomic_load_n(&crt.nparked, __ATOMIC_ACQUIRE);
            struct cr_thread_slot *late = NULL;
            for (uint32_t i = 0; i < crt.nslots; i++) {
                struct cr_thread_slot *s = &crt.slots[i];
                if (s->tid <= 0 || __atomic_load_n(&s->parked, __ATOMIC_ACQUIRE))
                    continue;
                if (syscall(SYS_tgkill, crt.pid, s->tid, 0) < 0 && errno == ESRCH)
                    s->tid = -1;
                else
                    late = s;
            }
            if (!late)
                break;
            if (cr_now_ms() >= deadline) {
                pid_t tracer = tracer_of_self();
                char traced[96] = "";
                if (tracer > 0) /* a debugger may hold the signal back */
                    snprintf(traced, sizeof traced, "; the process is traced by process %d: "
                             "detach the tracer", (int)tracer);
                snprintf(msg, msglen, "thread %d did not stop within %u ms (it blocks "
                         "signal %d and glibc's SIGSETXID, or is stuck in the kernel or in a "
                         "callback)%s; the process keeps running", late->tid, timeout_ms,
                         crt.signum, traced);
                return -ETIMEDOUT;
            }
            cr_futex_wait(&crt.nparked, seen, 10);
        }
        if (added == 0)
            return 0;
    }
}

int cr_freeze_threads(unsigned timeout_ms, char *msg, size_t msglen)
{
    int rc = freeze_threads(timeout_ms, msg, msglen);
    cr_signal_setxid_release(); /* before the dump reads the signal actions */
    return rc;
}
