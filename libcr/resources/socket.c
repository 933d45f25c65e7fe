/* Sockets: the scan (sock_diag), each socket's record (a pair inside: unix_sock.c; a
 * listening one; stdio; else a connection to the outside, by policy a reset socket at
 * restart, the default, or a refusal), and listening and reset sockets made again. */
#define _GNU_SOURCE
#include "resources.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/inet_diag.h>
#include <linux/unix_diag.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "context_reader.h"

/* A connection that led outside: a socket on the same fd number whose first read or
 * write fails with ECONNRESET (a unix stream whose peer went away with data unread),
 * so that the number is not silently reused by a later open(). */
static int dead_socket(struct child *c, const struct ctx_fd *f, uint32_t rec, int *own)
{
    (void)rec, (void)own;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 || write(sv[1], "", 1) != 1)
        child_fail(c, errno, "cannot make the reset socket for fd %d: %s", f->fd, strerror(errno));
    close(sv[0]);
    return sv[1];
}

static int listen_again(struct child *c, const struct ctx_fd *f, uint32_t rec)
{
    (void)rec;
    const struct sockaddr_un *un = (const void *)((const char *)(f + 1) + f->path_len);
    socklen_t alen = f->extra_len;
    int s = socket((int)f->pos, (int)f->flags | SOCK_CLOEXEC, 0);
    if (s < 0)
        child_fail(c, errno, "cannot create the listening socket of fd %d: %s", f->fd, strerror(errno));
    int one = 1;
    if (f->pos != AF_UNIX)
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    else if (un->sun_family == AF_UNIX && alen > offsetof(struct sockaddr_un, sun_path) && un->sun_path[0]) {
        /* a socket file left by the checkpointed process, if nobody answers on it */
        char path[sizeof un->sun_path + 1];
        size_t n = alen - offsetof(struct sockaddr_un, sun_path);
        memcpy(path, un->sun_path, n < sizeof path - 1 ? n : sizeof path - 1);
        path[n < sizeof path - 1 ? n : sizeof path - 1] = 0;
        struct stat st;
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_uid == getuid() && probe >= 0 &&
            connect(probe, (const struct sockaddr *)un, alen) < 0 && errno == ECONNREFUSED)
            unlink(path);
        if (probe >= 0)
            close(probe);
    }
    if (bind(s, (const struct sockaddr *)un, alen) < 0 || listen(s, SOMAXCONN) < 0)
        child_fail(c, errno, "cannot listen again at fd %d (%s): %s%s", f->fd,
                   (const char *)(f + 1), strerror(errno),
                   errno == EADDRINUSE ? " (another program listens there, or connections the "
                   "old process closed wait in TIME_WAIT for up to a minute when it did not set "
                   "SO_REUSEADDR: try again later)" : "");
    return s;
}

/* A tree's unix socket whose peer is in another process: the pool made the pair. */
int pool_pair_end(struct child *c, const struct ctx_fd *f)
{
    for (uint32_t i = 0; c->pool && i < c->pool->nsocks; i++)
        if (c->pool->socks[i].ino == f->id.ino)
            return c->pool->socks[i].fd;
    return -1;
}

static int restore_listen(struct child *c, const struct ctx_fd *f, uint32_t rec, int *own)
{
    int obj = pool_pair_end(c, f); /* the tree's, when processes share it */
    if (obj < 0)
        obj = listen_again(c, f, rec);
    else
        *own = 0;
    return obj;
}

/* Whether a process other than number i has a socket with this inode. */
int in_other_image(const struct ctx_tree *t, uint32_t i, uint64_t ino)
{
    for (uint32_t j = 0; j < t->n; j++) {
        const struct ctx_image *o = &t->images[j];
        for (uint32_t k = 0; j != i && o->proc && k < o->proc->nfds; k++)
            if ((o->fds[k]->kind == CTX_FD_UNIX_PAIR || o->fds[k]->kind == CTX_FD_LISTEN) &&
                o->fds[k]->id.ino == ino)
                return 1;
    }
    return 0;
}

struct cr_pool_sock *pool_sock(struct cr_pool *pool, uint64_t ino)
{
    for (uint32_t q = 0; q < pool->nsocks; q++)
        if (pool->socks[q].ino == ino)
            return &pool->socks[q];
    return NULL;
}

/* Inherited by a child (a preforking server): bound once, for all. */
static void pool_add_listen(struct cr_pool_build *b, uint32_t i, uint32_t k,
                            const struct ctx_fd *f)
{
    if (!in_other_image(b->t, i, f->id.ino) || pool_sock(b->pool, f->id.ino))
        return;
    struct child lc = { .img = &b->t->images[i], .o = b->o, .status_fd = b->status_fd,
                        .high = b->low };
    int s = listen_again(&lc, f, k);
    b->pool->socks[b->pool->nsocks++] = (struct cr_pool_sock){ f->id.ino, 0, pool_fd(b->rep, s, b->low), 1 };
}

const struct cr_fd_ops cr_fd_socket = {
    .kind = CTX_FD_SOCKET_DEAD, .name = "socket", .restore = dead_socket,
    .restore_nonblock = 1,
};

const struct cr_fd_ops cr_fd_listen = {
    .kind = CTX_FD_LISTEN, .name = "listen", .make = listen_again, .restore = restore_listen,
    .restore_nonblock = 1, .pool = pool_add_listen,
};
