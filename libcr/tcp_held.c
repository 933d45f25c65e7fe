/* TCP bytes on their way to a socket of the checkpoint when its peer had shut down
 * writing behind them (the peer in FIN_WAIT1, LAST_ACK or CLOSING with bytes not
 * acknowledged).  They can be seen only by letting them in and reading them, which
 * the checkpoint does (resources/tcp_pair.c, drain), and then no longer be sent again
 * from the peer, which may not write any more.  So the runtime holds them and the
 * program's reads of that socket get them first, then what the kernel has after them
 * (the peer's EOF: the FIN came in behind them), as an uninterrupted run reads them;
 * poll and epoll find the socket readable, as it was (its EOF is there).  A restored
 * copy drops them: the restart made the connection again and sent them through it,
 * then the FIN.  What differs meanwhile: FIONREAD on the socket says 0, and the
 * peer's state is FIN_WAIT2 rather than FIN_WAIT1 (its bytes were acknowledged). */
#define _GNU_SOURCE
#include "held_reads.h"
#include "tcp_held.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

#define MAX_HELD 64

struct held {
    int fd;                    /* -1: free */
    ino_t ino;                 /* the socket's: an fd number used again is not it */
    char *buf;                 /* mmap'd: part of the process's memory */
    size_t map_len, len, off;
};

static struct held helds[MAX_HELD] = { [0 ... MAX_HELD - 1] = { .fd = -1 } };
int cr_tcp_nheld;

static struct held *find(int fd)
{
    for (int i = 0; i < MAX_HELD; i++)
        if (helds[i].fd == fd && fd >= 0)
            return &helds[i];
    return NULL;
}

static void drop(struct held *h)
{
    if (h->buf)
        munmap(h->buf, h->map_len);
    *h = (struct held){ .fd = -1 };
    __atomic_sub_fetch(&cr_tcp_nheld, 1, __ATOMIC_RELEASE);
}

int cr_tcp_hold(int fd, const char *data, size_t len)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    struct held *h = find(fd);
    if (!h)
        for (int i = 0; !h && i < MAX_HELD; i++)
            if (helds[i].fd < 0)
                h = &helds[i];
    if (!h)
        return -ENOSPC;
    size_t map_len = (len + 4095) & ~(size_t)4095;
    char *buf = len ? mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) : NULL;
    if (buf == MAP_FAILED)
        return -errno;
    if (len)
        memcpy(buf, data, len);
    if (h->fd >= 0)
        drop(h);
    if (!len)
        return 0;
    *h = (struct held){ .fd = fd, .ino = st.st_ino, .buf = buf, .map_len = map_len, .len = len };
    __atomic_add_fetch(&cr_tcp_nheld, 1, __ATOMIC_RELEASE);
    return 0;
}

size_t cr_tcp_held(int fd, const char **data)
{
    struct held *h = find(fd);
    struct stat st;
    if (!h || fstat(fd, &st) < 0 || st.st_ino != h->ino)
        return 0;
    *data = h->buf + h->off;
    return h->len - h->off;
}

int cr_tcp_held_fd(int fd)
{
    return __atomic_load_n(&cr_tcp_nheld, __ATOMIC_ACQUIRE) && find(fd);
}

int cr_tcp_held_serve(int fd, void *buf, size_t n, int flags, ssize_t *out)
{
    if (!__atomic_load_n(&cr_tcp_nheld, __ATOMIC_ACQUIRE) || !find(fd))
        return 0; /* (a look without the lock first: reads of other fds pay nothing more) */
    sigset_t old;
    cr_held_lock(&old);
    struct held *h = find(fd);
    struct stat st;
    if (h && (fstat(fd, &st) < 0 || st.st_ino != h->ino)) {
        drop(h); /* closed (by a call not interposed) and the number used again */
        h = NULL;
    }
    if (!h) {
        cr_held_unlock(&old);
        return 0;
    }
    size_t k = h->len - h->off < n ? h->len - h->off : n;
    memcpy(buf, h->buf + h->off, k);
    if (!(flags & MSG_PEEK)) {
        h->off += k;
        if (h->off == h->len)
            drop(h);
    }
    cr_held_unlock(&old);
    *out = (ssize_t)k;
    return 1;
}

void cr_tcp_held_restored(void)
{
    for (int i = 0; i < MAX_HELD; i++)
        if (helds[i].fd >= 0)
            drop(&helds[i]);
}
