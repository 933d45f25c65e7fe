/* The program's reads, answered first from what the runtime took from the kernel at a
 * checkpoint and holds for it (inotify events: inotify_replay.c; TCP bytes behind a
 * FIN: tcp_held.c), else by the kernel.  While nothing is held a read costs one load
 * more, and one more for the client's PMI link (PMI_FD: resources/pmi.c notes the
 * server's answer to its init, read through read() or recv()).  A read through
 * syscall() or io_uring is not served (cr_checkpoint(1)). */
#define _GNU_SOURCE
#include "held_reads.h"
#include "runtime.h"
#include "inotify_replay.h"
#include "tcp_held.h"
#include "resources/resources.h"
#include "pid_map.h"
#include "proc_pids.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define API __attribute__((visibility("default")))

extern ssize_t __read(int fd, void *buf, size_t n);
extern void __chk_fail(void) __attribute__((noreturn));

/* libc's own, which are cancellation points (a raw system call is not): found once at
 * start-up, never while the process may be frozen */
static ssize_t (*libc_readv)(int, const struct iovec *, int);
static ssize_t (*libc_recv)(int, void *, size_t, int);
static ssize_t (*libc_recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
static ssize_t (*libc_recvmsg)(int, struct msghdr *, int);

CR_LOOKUP_CONSTRUCTOR static void find_libc_reads(void)
{
    libc_readv = (ssize_t (*)(int, const struct iovec *, int))dlsym(RTLD_NEXT, "readv");
    libc_recv = (ssize_t (*)(int, void *, size_t, int))dlsym(RTLD_NEXT, "recv");
    libc_recvfrom = (ssize_t (*)(int, void *, size_t, int, struct sockaddr *, socklen_t *))
        dlsym(RTLD_NEXT, "recvfrom");
    libc_recvmsg = (ssize_t (*)(int, struct msghdr *, int))dlsym(RTLD_NEXT, "recvmsg");
}

static int held_lock;

void cr_held_lock(sigset_t *old)
{
    sigset_t all;
    sigfillset(&all);
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, &all, old, sizeof(uint64_t));
    while (__atomic_exchange_n(&held_lock, 1, __ATOMIC_ACQUIRE))
        syscall(SYS_sched_yield);
}

void cr_held_unlock(const sigset_t *old)
{
    __atomic_store_n(&held_lock, 0, __ATOMIC_RELEASE);
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, old, NULL, sizeof(uint64_t));
}

/* (the runtime's own reads, the dump's, go to the kernel) */
static int anything_held(void)
{
    return (__atomic_load_n(&cr_inotify_nreplays, __ATOMIC_ACQUIRE) ||
            __atomic_load_n(&cr_tcp_nheld, __ATOMIC_ACQUIRE)) && !cr_on_runtime_thread();
}

API ssize_t read(int fd, void *buf, size_t n)
{
    ssize_t r;
    if (anything_held() && (cr_inotify_serve(fd, buf, n, &r) || cr_tcp_held_serve(fd, buf, n, 0, &r)))
        return r;
    if (__builtin_expect(__atomic_load_n(&cr_pid_map.n, __ATOMIC_RELAXED) != 0, 0) &&
        cr_proc_read(fd, buf, n, __builtin_return_address(0), &r)) /* pids of /proc */
        return r;
    r = __read(fd, buf, n);
    if (__builtin_expect(fd == cr_pmi_watched_fd, 0)) /* the answer to the client's PMI init */
        cr_pmi_saw_read(fd, buf, r);
    return r;
}

API ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
    if (n > buflen)
        __chk_fail();
    return read(fd, buf, n);
}

/* Each buffer in turn until one is not filled: as the kernel reads inotify (no
 * read_iter), and a stream's bytes land the same. */
API ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
    if (!anything_held() || cnt <= 0 || cnt > IOV_MAX)
        return libc_readv ? libc_readv(fd, iov, cnt) : syscall(SYS_readv, fd, iov, cnt);
    ssize_t total = 0, r;
    for (int i = 0; i < cnt; i++) {
        if (!cr_inotify_serve(fd, iov[i].iov_base, iov[i].iov_len, &r) &&
            !cr_tcp_held_serve(fd, iov[i].iov_base, iov[i].iov_len, 0, &r))
            /* nothing held (any more): the kernel reads the rest */
            return total ? total : libc_readv ? libc_readv(fd, iov + i, cnt - i)
                                              : syscall(SYS_readv, fd, iov + i, cnt - i);
        if (r < 0)
            return total ? total : r;
        total += r;
        if ((size_t)r < iov[i].iov_len)
            break;
    }
    return total;
}

API ssize_t recv(int fd, void *buf, size_t n, int flags)
{
    ssize_t r;
    if (anything_held() && cr_tcp_held_serve(fd, buf, n, flags, &r))
        return r;
    r = libc_recv ? libc_recv(fd, buf, n, flags) : syscall(SYS_recvfrom, fd, buf, n, flags, NULL, NULL);
    if (__builtin_expect(fd == cr_pmi_watched_fd, 0) && !(flags & MSG_PEEK))
        cr_pmi_saw_read(fd, buf, r);
    return r;
}

API ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags)
{
    if (n > buflen)
        __chk_fail();
    return recv(fd, buf, n, flags);
}

/* (a TCP socket names no sender: *alen becomes 0, as the kernel leaves it) */
API ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *addr, socklen_t *alen)
{
    ssize_t r;
    if (anything_held() && cr_tcp_held_serve(fd, buf, n, flags, &r)) {
        if (r >= 0 && addr && alen)
            *alen = 0;
        return r;
    }
    return libc_recvfrom ? libc_recvfrom(fd, buf, n, flags, addr, alen)
                         : syscall(SYS_recvfrom, fd, buf, n, flags, addr, alen);
}

API ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags, struct sockaddr *addr,
                           socklen_t *alen)
{
    if (n > buflen)
        __chk_fail();
    return recvfrom(fd, buf, n, flags, addr, alen);
}

API ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
    if (anything_held() && msg && msg->msg_iovlen > 0 && cr_tcp_held_fd(fd)) {
        ssize_t total = 0, r;
        /* a peek looks at the first buffer's worth (a stream may give less than asked) */
        size_t nbufs = flags & MSG_PEEK ? 1 : msg->msg_iovlen;
        for (size_t i = 0; i < nbufs; i++) {
            if (!cr_tcp_held_serve(fd, msg->msg_iov[i].iov_base, msg->msg_iov[i].iov_len, flags, &r))
                break; /* all served: the kernel's EOF comes next */
            if (r < 0)
                return total ? total : r;
            total += r;
            if ((size_t)r < msg->msg_iov[i].iov_len)
                break;
        }
        msg->msg_namelen = 0;
        msg->msg_controllen = 0;
        msg->msg_flags = 0;
        return total;
    }
    ssize_t r = libc_recvmsg ? libc_recvmsg(fd, msg, flags) : syscall(SYS_recvmsg, fd, msg, flags);
    if (r >= 0 && msg) /* a sender's pid, as the program knows it (pid_map.c) */
        cr_pid_creds_known(msg, __builtin_return_address(0));
    return r;
}
