/* The preloaded runtime (libcr_run.so): its start in every process, the manager
 * thread that serves checkpoint requests (from other processes over the control
 * socket, from the process itself through memory), and the interposed signal calls
 * that keep the quiesce signal deliverable.  Stopping the threads is quiesce.c's
 * part, one checkpoint checkpoint.c's, the dump dump.c's. */
#define _GNU_SOURCE
#include "runtime.h"
#include "proc_pids.h"
#include "dirty_track.h"
#include "precopy.h"
#include "stop_times.h"
#include "resources/resources.h"

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
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "callbacks.h"
#include "control.h"
#include "inotify_replay.h"
#include "dnotify_track.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif


struct cr_runtime crt = { .listen_fd = -1, .wake_fd = -1 };

static pid_t sys_gettid(void) { return (pid_t)syscall(SYS_gettid); }

/* The runtime's own closes of its two lasting fds, past the interposed close(). */
static void sys_close(int fd) { syscall(SYS_close, fd); }

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

/* The runtime's fds come from the application's own table, where a new fd takes the
 * lowest free number.  An application that closes an fd twice (bash does) would close
 * one of ours that had just taken that number, and we would later close its next one:
 * a pipe of the application's gone, "cannot duplicate fd 3".  So the runtime takes
 * fds only inside a section that no close of the application's overlaps (each close,
 * dup2 and close_range of an application thread counts itself in app_closing and waits
 * while a section is open), and moves them above the usual range before it ends. */
static uint32_t fd_section;    /* futex: 1 while the manager takes fds */
static uint32_t app_closing;   /* application threads inside a close */
static __thread int runtime_thread; /* the manager (and its snapshot child) */

int cr_on_runtime_thread(void)
{
    return runtime_thread;
}

/* (sections nest: a helper that takes one may be called inside another) */
static __thread int section_depth;

void cr_fd_section_begin(void)
{
    if (section_depth++)
        return;
    __atomic_store_n(&fd_section, 1, __ATOMIC_SEQ_CST);
    uint32_t v;
    while ((v = __atomic_load_n(&app_closing, __ATOMIC_SEQ_CST)) != 0)
        cr_futex_wait(&app_closing, v, 10);
}

void cr_fd_section_end(void)
{
    if (--section_depth)
        return;
    __atomic_store_n(&fd_section, 0, __ATOMIC_SEQ_CST);
    cr_futex_wake(&fd_section);
}

int cr_fd_guard_begin(void)
{
    /* frozen, the program opens nothing, and a thread parked inside a close would hold
     * a section off for ever */
    if (!runtime_thread || __atomic_load_n(&crt.freezing, __ATOMIC_SEQ_CST))
        return 0;
    cr_fd_section_begin();
    return 1;
}

void cr_fd_guard_end(int taken)
{
    if (taken)
        cr_fd_section_end();
}

int cr_open_private(const char *path, int flags)
{
    int g = cr_fd_guard_begin();
    int fd = cr_keep_high(open(path, flags | O_CLOEXEC));
    cr_fd_guard_end(g);
    return fd;
}

static int closing_begin(void)
{
    if (runtime_thread)
        return 0;
    for (;;) {
        __atomic_add_fetch(&app_closing, 1, __ATOMIC_SEQ_CST);
        if (!__atomic_load_n(&fd_section, __ATOMIC_SEQ_CST))
            return 1;
        if (__atomic_sub_fetch(&app_closing, 1, __ATOMIC_SEQ_CST) == 0)
            cr_futex_wake(&app_closing);
        cr_futex_wait(&fd_section, 1, 10);
    }
}

static void closing_end(int counted)
{
    if (counted && __atomic_sub_fetch(&app_closing, 1, __ATOMIC_SEQ_CST) == 0)
        cr_futex_wake(&app_closing);
}

/* ---- the control channel ---- */

/* Moves one of the runtime's fds out of the low numbers the application expects to
 * get from open() and pipe() (inside a section, see above). */
int cr_keep_high(int fd)
{
    struct rlimit rl;
    if (fd < 0 || getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < 256 || rl.rlim_cur == RLIM_INFINITY)
        return fd;
    int high = fcntl(fd, F_DUPFD_CLOEXEC, (int)rl.rlim_cur - 64);
    if (high < 0)
        return fd;
    sys_close(fd);
    return high;
}

/* The pid requesters know: /proc is the host's, so in a restarted tree's own pid
 * namespace /proc/self names the process as the outside sees it. */
static pid_t outside_pid(void)
{
    char buf[32];
    ssize_t n = readlink("/proc/self", buf, sizeof buf - 1);
    if (n <= 0)
        return getpid();
    buf[n] = 0;
    return (pid_t)atoi(buf);
}

static int open_listener(void)
{
    cr_fd_section_begin();
    /* non-blocking: an accept inside a section must never wait (closes wait for it) */
    int s = cr_keep_high(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    cr_fd_section_end();
    if (s < 0)
        return -errno;
    int e = EADDRINUSE;
    for (int tries = 0; tries < 3 && e == EADDRINUSE; tries++) {
        struct sockaddr_un addr;
        socklen_t alen = cr_ctl_new_address(outside_pid(), &addr);
        if (!alen) {
            e = errno ? errno : EIO;
            break;
        }
        e = bind(s, (struct sockaddr *)&addr, alen) < 0 ? errno : 0;
    }
    if (e || listen(s, 4) < 0) {
        e = e ? e : errno;
        sys_close(s);
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

/* A requester sends its request as soon as it is connected; one that does not within
 * this time is dropped, so that it cannot hold up the requests behind it. */
#define REQUEST_WAIT_MS 2000

static int recv_request(int c, struct cr_ctl_request *req, int *fd)
{
    char cbuf[CMSG_SPACE(sizeof(int))];
    struct iovec iov = { req, sizeof *req };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                         .msg_controllen = sizeof cbuf };
    *fd = -1;
    struct pollfd p = { c, POLLIN, 0 };
    uint64_t until = cr_now_ms() + REQUEST_WAIT_MS;
    int r;
    while ((r = poll(&p, 1, (int)(until > cr_now_ms() ? until - cr_now_ms() : 0))) < 0 && errno == EINTR)
        ;
    if (r != 1)
        return -ETIMEDOUT;
    cr_fd_section_begin();
    ssize_t n = recvmsg(c, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
            memcpy(fd, CMSG_DATA(cm), sizeof(int));
            *fd = cr_keep_high(*fd);
        }
    cr_fd_section_end();
    if (n < 0 || cr_ctl_request_check(req, (size_t)n) < 0 || *fd < 0) {
        if (*fd >= 0)
            sys_close(*fd);
        return -EPROTO;
    }
    return 0;
}

void cr_start_listener(void)
{
    internal_fds_reset();
    if (crt.wake_fd >= 0)
        cr_internal_fd_add(crt.wake_fd);
    crt.listen_fd = open_listener();
    if (crt.listen_fd < 0)
        warn("opening the control socket", -crt.listen_fd);
    else
        cr_internal_fd_add(crt.listen_fd);
}

/* A request from another process over the control socket. */
static int serve_socket(int c)
{
    struct cr_ctl_request req;
    struct cr_job job;
    memset(&job, 0, sizeof job);
    if (recv_request(c, &req, &job.fd) < 0)
        return 0;
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
        job.requester = cred.pid;
    job.conn = c;
    job.cow = (req.flags & CR_CTL_CONTINUE) != 0;
    job.flags = req.flags;
    job.timeout_ms = req.timeout_ms ? req.timeout_ms : 10000;
    cr_internal_fd_add(job.fd);
    if (cr_run_job(&job))
        return 1; /* restored copy: the connection and fd are not ours any more */
    cr_internal_fd_del(job.fd);
    close(job.fd);
    return 0;
}

/* A request the process made of itself (libcr). */
static void serve_self(void)
{
    struct cr_self_request *r = &crt.self;
    if (!__atomic_load_n(&r->pending, __ATOMIC_ACQUIRE))
        return;
    struct cr_job job;
    memset(&job, 0, sizeof job);
    job.conn = -1;
    cr_fd_section_begin();
    job.fd = cr_keep_high(fcntl(r->fd, F_DUPFD_CLOEXEC, 3));
    cr_fd_section_end();
    job.signal = r->signal;
    job.cow = (r->flags & CR_CTL_CONTINUE) != 0;
    job.flags = r->flags;
    job.requester = crt.pid;
    job.timeout_ms = r->timeout_ms ? r->timeout_ms : 10000;
    int restored = 0;
    if (job.fd < 0) {
        job.err = errno;
        snprintf(job.msg, sizeof job.msg, "the destination fd %d is not open", r->fd);
    } else {
        cr_internal_fd_add(job.fd);
        restored = cr_run_job(&job);
        if (!restored) {
            cr_internal_fd_del(job.fd);
            close(job.fd);
        }
    }
    r->err = restored ? CR_ERESTARTED : job.err;
    memcpy(r->msg, job.msg, sizeof r->msg);
    __atomic_store_n(&r->pending, 0, __ATOMIC_RELEASE);
    __atomic_add_fetch(&r->done, 1, __ATOMIC_ACQ_REL);
    cr_futex_wake(&r->done);
}

static void *manager_main(void *arg)
{
    (void)arg;
    crt.manager_tid = sys_gettid();
    runtime_thread = 1;
    /* named from inside: pthread_setname_np() from another thread opens
     * /proc/self/task/TID/comm, an fd of the program's to a checkpoint that comes then */
    prctl(PR_SET_NAME, "cr-manager", 0, 0, 0);
    crt.manager_cri = cri_thread_init();
    for (;;) {
        struct pollfd p[2] = { { crt.listen_fd, POLLIN, 0 }, { crt.wake_fd, POLLIN, 0 } };
        if (poll(p, 2, -1) < 0) {
            if (errno != EINTR)
                poll(NULL, 0, 100);
            continue;
        }
        if (p[1].revents & POLLIN) {
            uint64_t v;
            (void)!read(crt.wake_fd, &v, sizeof v);
            serve_self();
        }
        if ((p[0].revents | p[1].revents) & (POLLERR | POLLNVAL))
            poll(NULL, 0, 100); /* e.g. the application closed our socket: no spinning */
        if (!(p[0].revents & POLLIN))
            continue;
        cr_fd_section_begin();
        int c = cr_keep_high(accept4(crt.listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK));
        cr_fd_section_end();
        if (c < 0)
            continue;
        fcntl(c, F_SETFL, 0); /* the accept does not wait; the connection does */
        if (!peer_allowed(c)) {
            close(c);
            continue;
        }
        cr_internal_fd_add(c);
        if (serve_socket(c))
            continue; /* restored copy: c is not ours any more */
        cr_internal_fd_del(c);
        close(c);
    }
    return NULL;
}

int cri_self_request(int fd, int signal, unsigned timeout_ms, unsigned flags, unsigned *ticket)
{
    struct cr_self_request *r = &crt.self;
    if (crt.listen_fd < 0 || crt.wake_fd < 0)
        return -CR_ENOSUPPORT;
    if (fcntl(fd, F_GETFD) < 0)
        return -EBADF;
    if (__atomic_load_n(&crt.busy, __ATOMIC_ACQUIRE) ||
        __atomic_exchange_n(&r->pending, 1, __ATOMIC_ACQ_REL))
        return -EBUSY; /* (BLCR's answer while another checkpoint runs) */
    r->fd = fd;
    r->signal = signal;
    r->timeout_ms = timeout_ms;
    r->flags = flags;
    /* the answer is the next bump of `done`: read it before the manager can answer */
    *ticket = __atomic_load_n(&r->done, __ATOMIC_ACQUIRE);
    uint64_t one = 1;
    (void)!write(crt.wake_fd, &one, sizeof one);
    return 0;
}

/* Waits until the answer to the self request that returned `ticket` is there:
 * 1 answered (err and msg filled in), 0 not yet within timeout_ms (-1: unbounded). */
int cri_self_wait(unsigned ticket, int timeout_ms, int *err, char *msg, unsigned msglen)
{
    struct cr_self_request *r = &crt.self;
    uint64_t deadline = timeout_ms < 0 ? 0 : cr_now_ms() + (uint64_t)timeout_ms;
    uint32_t v;
    while ((v = __atomic_load_n(&r->done, __ATOMIC_ACQUIRE)) == ticket) {
        int left = -1;
        if (timeout_ms >= 0) {
            uint64_t now = cr_now_ms();
            if (now >= deadline)
                return 0;
            left = (int)(deadline - now);
        }
        cr_futex_wait(&r->done, v, left);
    }
    *err = r->err;
    if (msg && msglen)
        snprintf(msg, msglen, "%s", r->msg);
    return 1;
}

static void start_manager(void)
{
    sigset_t all, old;
    pthread_t th;
    pthread_attr_t attr;
    sigfillset(&all);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 1024 * 1024); /* thread-context callbacks run here */
    pthread_sigmask(SIG_SETMASK, &all, &old); /* glibc keeps its own signals open */
    int e = pthread_create(&th, &attr, manager_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (e)
        warn("starting the manager thread", e);
}

static void atfork_child(void)
{
    /* The child has only the forking thread: it gets a runtime of its own, without the
     * parent's thread-context callbacks (BLCR runs them only in the process that
     * registered them; the forking thread keeps its signal-context ones). */
    crt.pid = getpid();
    cri_ntc = 0;
    crt.freezing = 0;
    crt.nslots = 0;
    /* the other threads' sections, closes and execs stayed in the parent */
    fd_section = 0;
    app_closing = 0;
    crt.quiet = 0;
    if (crt.listen_fd >= 0)
        sys_close(crt.listen_fd);
    if (crt.wake_fd >= 0)
        sys_close(crt.wake_fd);
    crt.wake_fd = cr_keep_high(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    memset(&crt.self, 0, sizeof crt.self);
    cr_start_listener();
    cr_track_forked(); /* after the reset of the runtime's fds (it takes its own out) */
    cr_precopy_forked();
    cr_dump_prepared_forked();
    if (crt.listen_fd >= 0)
        start_manager();
}

/* What seccomp the process starts under (its launcher's): the freeze refuses only
 * what the program adds (quiesce.c). */
static void note_seccomp_at_start(void)
{
    char buf[4096];
    crt.seccomp_at_start = crt.seccomp_filters_at_start = -1;
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0)
        sys_close(fd);
    if (n <= 0)
        return;
    buf[n] = 0;
    char *m = strstr(buf, "\nSeccomp:"), *f = strstr(buf, "\nSeccomp_filters:");
    if (m)
        crt.seccomp_at_start = (int)strtol(m + 9, NULL, 10);
    if (f)
        crt.seccomp_filters_at_start = (int)strtol(f + 17, NULL, 10);
}

/* The listening sockets open before the program ran: left to it by its launcher
 * (slurmstepd leaks its own to the tasks, which share it on a node); the dumper saves
 * them as the launcher's (launcher_sock.c), not as the program's to listen on again.
 * A program started by socket activation (LISTEN_FDS) is told of its own: none then. */
static void note_launcher_sockets(void)
{
    crt.nlauncher_socks = 0;
    if (getenv("LISTEN_FDS"))
        return;
    for (int fd = 3; fd < 1024 && crt.nlauncher_socks < CR_MAX_LAUNCHER_SOCKS; fd++) {
        struct stat st;
        int listening = 0;
        socklen_t len = sizeof listening;
        if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode) ||
            getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 || !listening)
            continue;
        struct cr_launcher_sock *l = &crt.launcher_socks[crt.nlauncher_socks++];
        l->fd = fd;
        l->dev = st.st_dev;
        l->ino = st.st_ino;
    }
    /* from a parent with the runtime (a program under cr_run that exec'd this one), they
     * are the program's own: that parent is in the checkpoint with them */
    struct sockaddr_un parent;
    if (crt.nlauncher_socks && cr_ctl_find_address(getppid(), &parent, 0) >= 0)
        crt.nlauncher_socks = 0;
}

__attribute__((constructor)) static void cr_runtime_init(void)
{
    crt.pid = getpid();
    cr_stop_times_init();
    note_seccomp_at_start();
    ssize_t n = readlink("/proc/self/exe", crt.exe_path, sizeof crt.exe_path - 1);
    crt.exe_path[n > 0 ? n : 0] = 0;

    int rc = cr_quiesce_install();
    if (rc < 0) {
        warn("installing the checkpoint signal handler", -rc);
        return;
    }
    cr_posix_timers_init();
    note_launcher_sockets();
    cr_pmi_watch_start();
    crt.wake_fd = cr_keep_high(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    cr_start_listener();
    if (crt.listen_fd < 0)
        return;
    pthread_atfork(NULL, NULL, atfork_child);
    start_manager();
}

/* ---- keep the runtime's socket and eventfd when the program closes "all" fds ---- */

extern int __close(int fd);

/* --sockets=delay: while a checkpoint waits for the process's connections to the
 * outside to close, new ones wait for it (the manager's own netlink socket does not). */
static void socket_gate(int domain)
{
    if (domain == AF_NETLINK || syscall(SYS_gettid) == crt.manager_tid)
        return;
    uint32_t v;
    while ((v = __atomic_load_n(&crt.socket_gate, __ATOMIC_ACQUIRE)) != 0)
        cr_futex_wait(&crt.socket_gate, v, 1000);
}

__attribute__((visibility("default"))) int socket(int domain, int type, int protocol)
{
    socket_gate(domain);
    return (int)syscall(SYS_socket, domain, type, protocol);
}

__attribute__((visibility("default"))) int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
    socket_gate(AF_UNSPEC);
    return (int)syscall(SYS_accept4, fd, addr, len, flags);
}

__attribute__((visibility("default"))) int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
    return accept4(fd, addr, len, 0);
}

static int lasting_fd(int fd)
{
    return fd >= 0 && (fd == crt.listen_fd || fd == crt.wake_fd);
}

/* An fd of the runtime's is not the application's: closing it is closing a number it
 * does not have. */
static int not_yours(int fd)
{
    return !runtime_thread && fd >= 0 && (lasting_fd(fd) || cr_internal_fd(fd));
}

__attribute__((visibility("default"))) int close(int fd)
{
    if (not_yours(fd)) {
        errno = EBADF;
        return -1;
    }
    int counted = closing_begin();
    int r = __close(fd);
    int e = errno;
    closing_end(counted);
    if (r == 0)
        cr_inotify_replay_closed(fd, fd), cr_dnotify_closed(fd, fd), cr_proc_closed(fd, fd);
    errno = e;
    return r;
}

__attribute__((visibility("default"))) int dup2(int oldfd, int newfd)
{
    int counted = closing_begin(); /* replaces newfd: a close */
    int r = (int)syscall(SYS_dup2, oldfd, newfd);
    int e = errno;
    closing_end(counted);
    if (r >= 0 && oldfd != newfd)
        cr_inotify_replay_closed(newfd, newfd), cr_dnotify_closed(newfd, newfd), cr_proc_closed(newfd, newfd);
    errno = e;
    return r;
}

__attribute__((visibility("default"))) int dup3(int oldfd, int newfd, int flags)
{
    int counted = closing_begin();
    int r = (int)syscall(SYS_dup3, oldfd, newfd, flags);
    int e = errno;
    closing_end(counted);
    if (r >= 0)
        cr_inotify_replay_closed(newfd, newfd), cr_dnotify_closed(newfd, newfd), cr_proc_closed(newfd, newfd);
    errno = e;
    return r;
}

static int close_range_around(unsigned first, unsigned last, int flags)
{
    /* close around the runtime's fds: split [first, last] at each of them */
    if (first > last) {
        errno = EINVAL;
        return -1;
    }
    int keep[2] = { crt.listen_fd, crt.wake_fd };
    if (keep[0] > keep[1]) {
        int t = keep[0];
        keep[0] = keep[1];
        keep[1] = t;
    }
    unsigned from = first;
    for (int i = 0; i < 2; i++) {
        if (keep[i] < 0 || (unsigned)keep[i] < from || (unsigned)keep[i] > last)
            continue;
        if ((unsigned)keep[i] > from && syscall(SYS_close_range, from, (unsigned)keep[i] - 1, flags) < 0)
            return -1;
        from = (unsigned)keep[i] + 1;
    }
    if (from > last)
        return 0;
    return (int)syscall(SYS_close_range, from, last, flags);
}

__attribute__((visibility("default"))) int close_range(unsigned first, unsigned last, int flags)
{
    int counted = closing_begin();
    int r = close_range_around(first, last, flags);
    int e = errno;
    closing_end(counted);
    if (r == 0 && !(flags & CLOSE_RANGE_CLOEXEC))
        cr_inotify_replay_closed((int)first, last > INT_MAX ? INT_MAX : (int)last),
            cr_dnotify_closed((int)first, last > INT_MAX ? INT_MAX : (int)last),
            cr_proc_closed((int)first, last > INT_MAX ? INT_MAX : (int)last);
    errno = e;
    return r;
}

__attribute__((visibility("default"))) void closefrom(int lowfd)
{
    close_range((unsigned)(lowfd < 0 ? 0 : lowfd), ~0U, 0);
}
