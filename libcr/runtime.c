/* The preloaded runtime (libcr_run.so): a quiesce signal handler in every thread and
 * a manager thread that serves the control channel, stops the other threads, has the
 * dumper write the context file, and resumes them.
 *
 * A thread stops inside the handler: it records what the kernel keeps outside memory
 * (fs base, robust list, tid address, mask, altstack), takes a snapshot of its
 * callee-saved registers and parks on a futex.  Everything else, including the full
 * register and FPU state of the interrupted code (the signal frame), is in memory and
 * is dumped with it.  The restorer rebuilds each thread at its snapshot, where
 * cr_snapshot() returns 1; the thread then redoes its kernel-side state, waits for the
 * manager and returns from the handler, and rt_sigreturn puts back the interrupted
 * context exactly. */
#define _GNU_SOURCE
#include "runtime.h"

#include <dirent.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>
#include <asm/prctl.h>

#include "control.h"

#define RSEQ_SIG_X86 0x53053053
#define COMMIT_WAIT_MS 30000

extern int __sigaction(int sig, const struct sigaction *act, struct sigaction *old);

struct cr_runtime crt = { .listen_fd = -1 };

extern const ptrdiff_t __rseq_offset __attribute__((weak));
extern const unsigned int __rseq_size __attribute__((weak));

static pid_t sys_gettid(void) { return (pid_t)syscall(SYS_gettid); }

static void futex_wait(uint32_t *addr, uint32_t val, int timeout_ms)
{
    struct timespec ts = { timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L };
    syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, timeout_ms < 0 ? NULL : &ts, NULL, 0);
}

static void futex_wake(uint32_t *addr)
{
    syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void warn(const char *what, int err)
{
    char buf[256];
    int n = snprintf(buf, sizeof buf, "slurm-cr runtime (pid %d): %s: %s; this process "
                     "cannot be checkpointed\n", (int)getpid(), what, strerror(err));
    if (n > 0)
        (void)!write(2, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* ---- the runtime's own file descriptors ---- */

void cr_internal_fd_add(int fd)
{
    for (int i = 0; i < CR_MAX_INTERNAL_FDS; i++)
        if (crt.internal_fds[i] < 0) {
            crt.internal_fds[i] = fd;
            return;
        }
}

void cr_internal_fd_del(int fd)
{
    for (int i = 0; i < CR_MAX_INTERNAL_FDS; i++)
        if (crt.internal_fds[i] == fd)
            crt.internal_fds[i] = -1;
}

int cr_internal_fd(int fd)
{
    for (int i = 0; i < CR_MAX_INTERNAL_FDS; i++)
        if (crt.internal_fds[i] == fd)
            return 1;
    return 0;
}

static void internal_fds_reset(void)
{
    for (int i = 0; i < CR_MAX_INTERNAL_FDS; i++)
        crt.internal_fds[i] = -1;
}

/* ---- per-thread state ---- */

static void record_thread(struct cr_thread_slot *s, ucontext_t *uc)
{
    uint64_t v = 0;
    size_t len = 0;
    s->uc = uc;
    syscall(SYS_arch_prctl, ARCH_GET_FS, &s->fs_base);
    v = 0;
    prctl(PR_GET_TID_ADDRESS, &v, 0, 0, 0);
    s->clear_tid = v;
    void *head = NULL;
    syscall(SYS_get_robust_list, 0, &head, &len);
    s->robust_head = (uint64_t)(uintptr_t)head;
    s->robust_len = len;
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &s->sigmask, sizeof s->sigmask);
    syscall(SYS_sigaltstack, NULL, &s->altstack);
    prctl(PR_GET_NAME, s->comm, 0, 0, 0);
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
}

static struct cr_thread_slot *find_slot(pid_t tid)
{
    uint32_t n = __atomic_load_n(&crt.nslots, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < n; i++)
        if (crt.slots[i].tid == tid)
            return &crt.slots[i];
    return NULL;
}

static void quiesce_handler(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    (void)si;
    int saved_errno = errno;
    struct cr_thread_slot *s;
    if (!__atomic_load_n(&crt.freezing, __ATOMIC_ACQUIRE) || !(s = find_slot(sys_gettid()))) {
        errno = saved_errno;
        return;
    }
    uint32_t gen = __atomic_load_n(&crt.gen, __ATOMIC_ACQUIRE);
    record_thread(s, ucv);
    if (cr_snapshot(&s->resume) == 0) {
        __atomic_store_n(&s->parked, 1, __ATOMIC_RELEASE);
        __atomic_add_fetch(&crt.nparked, 1, __ATOMIC_ACQ_REL);
        futex_wake(&crt.nparked);
    } else {
        /* The restored copy: the restorer rebuilt this thread here. */
        cr_thread_fixup(s);
        __atomic_add_fetch(&crt.nresumed, 1, __ATOMIC_ACQ_REL);
        futex_wake(&crt.nresumed);
    }
    while (__atomic_load_n(&crt.gen, __ATOMIC_ACQUIRE) == gen)
        futex_wait(&crt.gen, gen, -1);
    errno = saved_errno;
}

/* ---- stopping and resuming the other threads ---- */

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
            pid_t tid = (pid_t)strtol(d->d_name, NULL, 10);
            if (tid <= 0 || tid == crt.manager_tid || find_slot(tid))
                continue;
            if (crt.nslots >= CR_MAX_THREADS) {
                close(dfd);
                snprintf(msg, msglen, "more than %d threads", CR_MAX_THREADS);
                return -E2BIG;
            }
            struct cr_thread_slot *s = &crt.slots[crt.nslots];
            memset(s, 0, sizeof *s);
            s->tid = tid;
            __atomic_store_n(&crt.nslots, crt.nslots + 1, __ATOMIC_RELEASE);
            if (syscall(SYS_tgkill, crt.pid, tid, CR_QUIESCE_SIGNAL) < 0)
                s->tid = -1; /* it has exited meanwhile */
            added++;
        }
    }
    close(dfd);
    return added;
}

static void release_threads(void)
{
    __atomic_store_n(&crt.freezing, 0, __ATOMIC_RELEASE);
    __atomic_add_fetch(&crt.gen, 1, __ATOMIC_ACQ_REL);
    futex_wake(&crt.gen);
}

/* Stops every other thread inside the handler; a thread that exits meanwhile is
 * dropped.  Repeats the scan until it finds no new thread. */
static int freeze_threads(unsigned timeout_ms, char *msg, size_t msglen)
{
    crt.nslots = 0;
    crt.nparked = 0;
    __atomic_store_n(&crt.freezing, 1, __ATOMIC_RELEASE);
    uint64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        int added = signal_new_threads(msg, msglen);
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
            if (now_ms() >= deadline) {
                snprintf(msg, msglen, "thread %d did not stop within %u ms (it blocks "
                         "signal %d or is stuck in the kernel); the process keeps running",
                         late->tid, timeout_ms, CR_QUIESCE_SIGNAL);
                return -ETIMEDOUT;
            }
            futex_wait(&crt.nparked, seen, 10);
        }
        if (added == 0)
            return 0;
    }
}

/* ---- the control channel ---- */

static int open_listener(void)
{
    struct sockaddr_un addr;
    socklen_t alen = cr_ctl_address(getpid(), &addr);
    int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -errno;
    /* Keep our fd out of the low numbers the application expects to get. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur >= 256 && rl.rlim_cur != RLIM_INFINITY) {
        int high = fcntl(s, F_DUPFD_CLOEXEC, (int)rl.rlim_cur - 64);
        if (high >= 0) {
            close(s);
            s = high;
        }
    }
    if (bind(s, (struct sockaddr *)&addr, alen) < 0 || listen(s, 4) < 0) {
        int e = errno;
        close(s);
        return -e;
    }
    return s;
}

static int peer_allowed(int c)
{
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
        return 0;
    return cred.uid == 0 || cred.uid == getuid();
}

static int recv_request(int c, struct cr_ctl_request *req, int *fd)
{
    char cbuf[CMSG_SPACE(sizeof(int))];
    struct iovec iov = { req, sizeof *req };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                         .msg_controllen = sizeof cbuf };
    *fd = -1;
    ssize_t n = recvmsg(c, &mh, MSG_CMSG_CLOEXEC);
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
            memcpy(fd, CMSG_DATA(cm), sizeof(int));
    if (n != (ssize_t)sizeof *req || req->magic != CR_CTL_MAGIC ||
        req->version != CR_CTL_VERSION || req->op != CR_CTL_CHECKPOINT || *fd < 0) {
        if (*fd >= 0)
            close(*fd);
        return -EPROTO;
    }
    return 0;
}

/* Waits for the requester to say the file is in place; gives up (and resumes the
 * process unharmed) if it goes away or takes too long. */
static int wait_commit(int c, int *signal)
{
    struct pollfd p = { c, POLLIN, 0 };
    struct cr_ctl_commit cm;
    *signal = 0;
    if (poll(&p, 1, COMMIT_WAIT_MS) != 1 || recv(c, &cm, sizeof cm, 0) != (ssize_t)sizeof cm ||
        cm.magic != CR_CTL_MAGIC)
        return -1;
    if (cm.signal > 0 && cm.signal < 65)
        *signal = cm.signal;
    return 0;
}

static void start_fresh_listener(void)
{
    internal_fds_reset();
    crt.listen_fd = open_listener();
    if (crt.listen_fd < 0)
        warn("opening the control socket", -crt.listen_fd);
    else
        cr_internal_fd_add(crt.listen_fd);
}

/* The restored copy's manager: wait for every thread's fix-ups, drop the restorer's
 * mapping, listen under the new pid, let everyone go. */
static void resume_after_restore(void)
{
    cr_thread_fixup(&crt.manager);
    crt.pid = getpid();
    crt.manager_tid = sys_gettid();
    uint32_t live = 0;
    for (uint32_t i = 0; i < crt.nslots; i++)
        if (crt.slots[i].tid > 0)
            live++;
    uint32_t v;
    while ((v = __atomic_load_n(&crt.nresumed, __ATOMIC_ACQUIRE)) < live)
        futex_wait(&crt.nresumed, v, 1000);
    if (crt.restart.hole_len)
        munmap((void *)(uintptr_t)crt.restart.hole_start, crt.restart.hole_len);
    crt.restart.hole_len = 0;
    start_fresh_listener();
    release_threads();
}

/* With every other thread parked: record the manager's own state and dump.  Returns
 * 1 in the restored copy, which comes back here from its snapshot. */
static __attribute__((noinline)) int dump_frozen(int fd, struct cr_ctl_reply *rep, int *rc)
{
    crt.nresumed = 0;
    crt.manager.tid = crt.manager_tid;
    record_thread(&crt.manager, NULL);
    if (cr_snapshot(&crt.manager.resume) != 0) {
        resume_after_restore();
        return 1;
    }
    *rc = cr_dump(fd, rep->msg, sizeof rep->msg, &rep->bytes);
    return 0;
}

/* Serves one checkpoint request.  Returns 1 in the restored copy, where the
 * connection and its fds no longer exist. */
static int serve(int c)
{
    struct cr_ctl_request req;
    struct cr_ctl_reply rep;
    int fd, sig = 0;
    memset(&rep, 0, sizeof rep);
    rep.magic = CR_CTL_MAGIC;
    if (recv_request(c, &req, &fd) < 0)
        return 0;
    cr_internal_fd_add(fd);

    int rc = freeze_threads(req.timeout_ms ? req.timeout_ms : 10000, rep.msg, sizeof rep.msg);
    if (rc == 0) {
        rep.phase = CR_CTL_FROZEN;
        if (send(c, &rep, sizeof rep, MSG_NOSIGNAL) != (ssize_t)sizeof rep)
            rc = -ECONNRESET; /* the requester is gone: nothing to write for */
        else if (dump_frozen(fd, &rep, &rc))
            return 1;
    }
    cr_internal_fd_del(fd);
    close(fd);
    rep.err = -rc;
    rep.phase = CR_CTL_DONE;
    if (send(c, &rep, sizeof rep, MSG_NOSIGNAL) == (ssize_t)sizeof rep && rc == 0 &&
        wait_commit(c, &sig) == 0 && sig)
        kill(crt.pid, sig); /* pending before any thread runs application code again */
    release_threads();
    return 0;
}

static void *manager_main(void *arg)
{
    (void)arg;
    crt.manager_tid = sys_gettid();
    for (;;) {
        int c = accept4(crt.listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) {
            if (errno != EINTR && errno != ECONNABORTED)
                poll(NULL, 0, 100); /* e.g. the application closed our socket */
            continue;
        }
        if (!peer_allowed(c)) {
            close(c);
            continue;
        }
        cr_internal_fd_add(c);
        if (serve(c))
            continue; /* restored copy: c is not ours any more */
        cr_internal_fd_del(c);
        close(c);
    }
    return NULL;
}

static void start_manager(void)
{
    sigset_t all, old;
    pthread_t th;
    pthread_attr_t attr;
    sigfillset(&all);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* glibc keeps its own signals open */
    int e = pthread_create(&th, &attr, manager_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (e)
        warn("starting the manager thread", e);
    else
        pthread_setname_np(th, "cr-manager");
}

static void atfork_child(void)
{
    /* The child has only the forking thread: it gets a runtime of its own. */
    crt.pid = getpid();
    crt.freezing = 0;
    crt.nslots = 0;
    if (crt.listen_fd >= 0)
        close(crt.listen_fd);
    start_fresh_listener();
    if (crt.listen_fd >= 0)
        start_manager();
}

__attribute__((constructor)) static void cr_runtime_init(void)
{
    crt.pid = getpid();
    ssize_t n = readlink("/proc/self/exe", crt.exe_path, sizeof crt.exe_path - 1);
    crt.exe_path[n > 0 ? n : 0] = 0;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = quiesce_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&sa.sa_mask);
    if (__sigaction(CR_QUIESCE_SIGNAL, &sa, NULL) < 0) {
        warn("installing the checkpoint signal handler", errno);
        return;
    }
    start_fresh_listener();
    if (crt.listen_fd < 0)
        return;
    pthread_atfork(NULL, NULL, atfork_child);
    start_manager();
}

/* ---- keep the quiesce signal deliverable ---- */

static void unblock_ours(sigset_t *set)
{
    /* bit manipulation: sigdelset refuses glibc's internal signals */
    set->__val[0] &= ~(1UL << (CR_QUIESCE_SIGNAL - 1));
    set->__val[0] &= ~(3UL << 31); /* SIGCANCEL, SIGSETXID, as glibc does */
}

__attribute__((visibility("default"))) int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
    sigset_t copy;
    if (set && how != SIG_UNBLOCK) {
        copy = *set;
        unblock_ours(&copy);
        set = &copy;
    }
    long r = syscall(SYS_rt_sigprocmask, how, set, old, 8);
    return r < 0 ? errno : 0;
}

__attribute__((visibility("default"))) int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
    int e = pthread_sigmask(how, set, old);
    if (e) {
        errno = e;
        return -1;
    }
    return 0;
}

__attribute__((visibility("default"))) int sigaction(int sig, const struct sigaction *act,
                                                     struct sigaction *old)
{
    if (sig == CR_QUIESCE_SIGNAL && act) {
        errno = EINVAL; /* reserved for checkpoints while running under cr_run */
        return -1;
    }
    return __sigaction(sig, act, old);
}
