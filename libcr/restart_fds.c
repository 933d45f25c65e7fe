/* cr_restart's child puts back the image's file descriptors: files and directories
 * by path at their offsets, the /dev/null family, cr_restart's own stdio, pipes and
 * unix socket pairs inside the process with their data, eventfds, epoll instances
 * with their interest lists, listening sockets bound again, and dead sockets for
 * connections that led outside. */
#define _GNU_SOURCE
#include "restart_child.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <signal.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <stddef.h>
#include <unistd.h>

#include "context_reader.h"
#include "crc32c.h"

static void place_fd(struct child *c, int obj, const struct ctx_fd *f)
{
    int cloexec = (f->fd_flags & FD_CLOEXEC) ? O_CLOEXEC : 0;
    if (obj == f->fd) {
        fcntl(obj, F_SETFD, cloexec ? FD_CLOEXEC : 0);
        return;
    }
    if (dup3(obj, f->fd, cloexec) < 0)
        child_fail(c, errno, "cannot place fd %d: %s", f->fd, strerror(errno));
}

/* A pipe of the image: created once, its data put back, its ends kept above the
 * image's fds until every fd of it is placed. */
struct pipe_made {
    uint64_t ino;
    int end[2];
};

static int pipe_end(struct child *c, struct pipe_made *made, uint32_t *nmade, const struct ctx_fd *f)
{
    struct pipe_made *m = NULL;
    for (uint32_t i = 0; i < *nmade; i++)
        if (made[i].ino == f->id.ino)
            m = &made[i];
    if (!m) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
            child_fail(c, errno, "cannot create a pipe for fd %d: %s", f->fd, strerror(errno));
        m = &made[(*nmade)++];
        m->ino = f->id.ino;
        m->end[0] = move_high(c, p[0]);
        m->end[1] = move_high(c, p[1]);
        if (fcntl(m->end[1], F_SETPIPE_SZ, (int)f->pos) < 0 && f->extra_len)
            child_fail(c, errno, "cannot give the pipe of fd %d its %llu bytes: %s", f->fd,
                       (unsigned long long)f->pos, strerror(errno));
    }
    if (f->extra_len) { /* the data that was waiting in it (one record carries it) */
        const char *data = (const char *)(f + 1) + f->path_len;
        if (write(m->end[1], data, f->extra_len) != (ssize_t)f->extra_len)
            child_fail(c, errno, "cannot refill the pipe of fd %d: %s", f->fd, strerror(errno));
    }
    return m->end[(f->open_flags & O_ACCMODE) == O_RDONLY ? 0 : 1];
}

/* A unix socket pair of the image: made when the first of its two fds comes, the
 * data queued to each end put back by writing it from the other end. */
struct pair_made {
    uint64_t ino[2];
    int end[2];
};

static int pair_end(struct child *c, struct pair_made *made, uint32_t *nmade, const struct ctx_fd *f)
{
    struct pair_made *m = NULL;
    int side = 0;
    for (uint32_t i = 0; i < *nmade && !m; i++)
        for (int k = 0; k < 2; k++)
            if (made[i].ino[k] == f->id.ino) {
                m = &made[i];
                side = k;
            }
    if (!m) {
        int sv[2];
        if (socketpair(AF_UNIX, (int)f->flags | SOCK_CLOEXEC, 0, sv) < 0)
            child_fail(c, errno, "cannot create the socket pair of fd %d: %s", f->fd, strerror(errno));
        m = &made[(*nmade)++];
        m->ino[0] = f->id.ino;
        m->ino[1] = f->pos; /* its peer */
        m->end[0] = move_high(c, sv[0]);
        m->end[1] = move_high(c, sv[1]);
        side = 0;
    }
    if (f->extra_len) {
        const char *data = (const char *)(f + 1) + f->path_len;
        if (write(m->end[!side], data, f->extra_len) != (ssize_t)f->extra_len)
            child_fail(c, errno, "cannot queue %u bytes to the socket of fd %d: %s", f->extra_len,
                       f->fd, strerror(errno));
    }
    return m->end[side];
}

/* A connection that led outside: a socket on the same fd number whose first read or
 * write fails with ECONNRESET (a unix stream whose peer went away with data unread),
 * so that the number is not silently reused by a later open(). */
static int dead_socket(struct child *c, const struct ctx_fd *f)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 || write(sv[1], "", 1) != 1)
        child_fail(c, errno, "cannot make the reset socket for fd %d: %s", f->fd, strerror(errno));
    close(sv[0]);
    return sv[1];
}

static int listen_again(struct child *c, const struct ctx_fd *f)
{
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

/* The flags open() takes back: access mode and file status, not O_TMPFILE & co. */
#define REOPEN_FLAGS (O_ACCMODE | O_APPEND | O_NONBLOCK | O_DSYNC | O_SYNC | O_DIRECT | O_NOATIME | O_LARGEFILE)

/* A file that was deleted while open: an unnamed file again (O_TMPFILE, where it
 * was, or in the working directory), with the saved contents, opened as it was. */
static int recreate_deleted(struct child *c, const struct ctx_fd *f, uint32_t rec)
{
    struct ctx_image *img = c->img;
    char dir[CTX_PATH_MAX], buf[CTX_PATH_MAX];
    int moved;
    const char *path = relocate(c->o, (const char *)(f + 1), buf, sizeof buf, &moved);
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir)
        *slash = 0;
    int tmp = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (tmp < 0)
        tmp = open(".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (tmp < 0)
        child_fail(c, errno, "cannot recreate the deleted file %s of fd %d: %s", path, f->fd,
                   strerror(errno));
    char *data = malloc(CTX_BLOCK_MAX_PAGES * 4096);
    if (!data)
        child_fail(c, ENOMEM, "out of memory");
    for (uint32_t i = 0; i < img->hdr.nblocks; i++) {
        const struct ctx_block *b = &img->blocks[i];
        if (b->vma != (CTX_BLOCK_FILE | rec))
            continue;
        size_t len = (size_t)b->npages * 4096;
        if (pread(img->fd, data, len, (off_t)(img->base + b->file_offset)) != (ssize_t)len)
            child_fail(c, EIO, "cannot read the saved contents of %s", path);
        if (crc32c(0, data, len) != img->crcs[i])
            child_fail(c, EBADMSG, "checksum mismatch in the saved contents of %s at %llu", path,
                       (unsigned long long)b->addr);
        size_t keep = f->id.size - b->addr < len ? (size_t)(f->id.size - b->addr) : len;
        if (pwrite(tmp, data, keep, (off_t)b->addr) != (ssize_t)keep)
            child_fail(c, errno, "cannot write the contents of %s back: %s", path, strerror(errno));
    }
    free(data);
    if (ftruncate(tmp, (off_t)f->id.size) < 0)
        child_fail(c, errno, "cannot size the file of fd %d: %s", f->fd, strerror(errno));
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", tmp);
    int obj = open(self, ((int)f->open_flags & REOPEN_FLAGS) | O_NOCTTY);
    if (obj < 0)
        child_fail(c, errno, "cannot reopen the recreated file of fd %d: %s", f->fd, strerror(errno));
    close(tmp);
    if (lseek(obj, (off_t)f->pos, SEEK_SET) < 0)
        child_fail(c, errno, "cannot seek the file of fd %d: %s", f->fd, strerror(errno));
    return obj;
}

/* A named FIFO: a keeper opened read-write holds both ends while the fds are
 * opened (so that no open blocks) and carries the saved data back in. */
struct fifo_made {
    uint64_t ino;
    int keeper;
};

static int fifo_end(struct child *c, struct fifo_made *made, uint32_t *nmade, const struct ctx_fd *f)
{
    char buf[CTX_PATH_MAX];
    int moved;
    const char *path = relocate(c->o, (const char *)(f + 1), buf, sizeof buf, &moved);
    struct fifo_made *m = NULL;
    for (uint32_t i = 0; i < *nmade; i++)
        if (made[i].ino == f->id.ino)
            m = &made[i];
    if (!m) {
        int k = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (k < 0)
            child_fail(c, errno, "cannot open the FIFO %s of fd %d: %s", path, f->fd, strerror(errno));
        m = &made[(*nmade)++];
        m->ino = f->id.ino;
        m->keeper = move_high(c, k);
        fcntl(m->keeper, F_SETPIPE_SZ, (int)f->pos);
    }
    if (f->extra_len && write(m->keeper, (const char *)(f + 1) + f->path_len, f->extra_len) !=
                            (ssize_t)f->extra_len)
        child_fail(c, errno, "cannot refill the FIFO %s: %s", path, strerror(errno));
    int obj = open(path, ((int)f->open_flags & O_ACCMODE) | O_NONBLOCK | O_CLOEXEC);
    if (obj < 0)
        child_fail(c, errno, "cannot reopen the FIFO %s as fd %d: %s", path, f->fd, strerror(errno));
    return obj;
}

static int reopen_by_path(struct child *c, const struct ctx_fd *f)
{
    char buf[CTX_PATH_MAX];
    int moved;
    const char *path = relocate(c->o, (const char *)(f + 1), buf, sizeof buf, &moved);
    int flags = (int)f->open_flags & REOPEN_FLAGS;
    if (f->kind == CTX_FD_DIR)
        flags = O_RDONLY | O_DIRECTORY | (flags & O_CLOEXEC);
    int obj = open(path, flags | O_NOCTTY);
    if (obj < 0)
        child_fail(c, errno, "cannot reopen %s as fd %d: %s", path, f->fd, strerror(errno));
    if ((f->kind == CTX_FD_FILE || f->kind == CTX_FD_DIR) && lseek(obj, (off_t)f->pos, SEEK_SET) < 0)
        child_fail(c, errno, "cannot seek %s to %llu: %s", path, (unsigned long long)f->pos,
                   strerror(errno));
    return obj;
}

void pty_make(struct child *c, const struct ctx_fd *f, struct cr_pool_pty *out)
{
    const struct ctx_pty *p = (const void *)((const char *)(f + 1) + f->path_len);
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, out->slave, sizeof out->slave))
        child_fail(c, errno ? errno : EIO, "cannot make a new pseudo-terminal for /dev/pts/%llu: %s",
                   (unsigned long long)f->pos, strerror(errno));
    struct termios tio;
    memcpy(&tio, p->termios, sizeof tio);
    struct winsize ws = { p->rows, p->cols, p->xpixel, p->ypixel };
    if (tcsetattr(m, TCSANOW, &tio) < 0 || ioctl(m, TIOCSWINSZ, &ws) < 0)
        child_fail(c, errno, "cannot set up the new pseudo-terminal %s: %s", out->slave,
                   strerror(errno));
    out->index = (int32_t)f->pos;
    out->master = move_high(c, m);
}

/* The new pair of a saved terminal: the pool's, or one made here (a single process
 * that holds the master itself, whose record comes first). */
static struct cr_pool_pty local_ptys[16];
static uint32_t nlocal_ptys;

static int pty_object(struct child *c, const struct ctx_fd *f)
{
    struct cr_pool_pty *pp = NULL;
    for (uint32_t i = 0; c->pool && i < c->pool->nptys; i++)
        if (c->pool->ptys[i].index == (int32_t)f->pos)
            pp = &c->pool->ptys[i];
    for (uint32_t i = 0; !pp && i < nlocal_ptys; i++)
        if (local_ptys[i].index == (int32_t)f->pos)
            pp = &local_ptys[i];
    const struct ctx_fd *master = (f->flags & CTX_FD_PTY_MASTER) ? f : NULL;
    for (uint32_t i = 0; !pp && !master && c->img && i < c->img->proc->nfds; i++)
        if (c->img->fds[i]->kind == CTX_FD_PTY && c->img->fds[i]->pos == f->pos &&
            (c->img->fds[i]->flags & CTX_FD_PTY_MASTER))
            master = c->img->fds[i]; /* at a higher fd than this slave */
    if (!pp && master && nlocal_ptys < 16) {
        pp = &local_ptys[nlocal_ptys++];
        pty_make(c, master, pp);
    }
    if (!pp)
        child_fail(c, EBADMSG, "fd %d is /dev/pts/%llu, whose master was not restored", f->fd,
                   (unsigned long long)f->pos);
    int obj = (f->flags & CTX_FD_PTY_MASTER) ? fcntl(pp->master, F_DUPFD_CLOEXEC, 0)
                                             : open(pp->slave, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (obj < 0)
        child_fail(c, errno, "cannot open the new pseudo-terminal %s for fd %d: %s", pp->slave,
                   f->fd, strerror(errno));
    return obj;
}

int fd_object(struct child *c, const struct ctx_fd *f, uint32_t rec)
{
    int obj;
    switch (f->kind) {
    case CTX_FD_EVENTFD:
        obj = eventfd(f->pos > UINT32_MAX ? 0 : (unsigned)f->pos, EFD_CLOEXEC |
                      (f->flags & CTX_FD_EVENTFD_SEMAPHORE ? EFD_SEMAPHORE : 0));
        if (obj < 0 || (f->pos > UINT32_MAX && write(obj, &f->pos, 8) != 8))
            child_fail(c, errno, "cannot create the eventfd of fd %d: %s", f->fd, strerror(errno));
        return obj;
    case CTX_FD_TIMERFD: {
        struct ctx_timerfd tv; /* after the path: not aligned */
        memcpy(&tv, (const char *)(f + 1) + f->path_len, sizeof tv);
        const struct ctx_timerfd *t = &tv;
        struct itimerspec it = { { (time_t)t->interval_sec, (long)t->interval_nsec },
                                 { (time_t)t->value_sec, (long)t->value_nsec } };
        if (t->ticks) /* expirations not read yet: one comes at once (the count is lost) */
            it.it_value = (struct timespec){ 0, 1 };
        obj = timerfd_create(t->clockid, TFD_CLOEXEC);
        if (obj < 0 || timerfd_settime(obj, 0, &it, NULL) < 0)
            child_fail(c, errno, "cannot set up the timerfd of fd %d: %s", f->fd, strerror(errno));
        return obj;
    }
    case CTX_FD_SIGNALFD: {
        sigset_t mask;
        sigemptyset(&mask);
        memcpy(&mask, &f->pos, sizeof f->pos);
        obj = signalfd(-1, &mask, SFD_CLOEXEC);
        if (obj < 0)
            child_fail(c, errno, "cannot create the signalfd of fd %d: %s", f->fd, strerror(errno));
        return obj;
    }
    case CTX_FD_FILE:
    case CTX_FD_DIR:
    case CTX_FD_DEVICE:
        return (f->flags & CTX_FD_DELETED) ? recreate_deleted(c, f, rec) : reopen_by_path(c, f);
    case CTX_FD_PTY:
        return pty_object(c, f);
    case CTX_FD_LISTEN:
        return listen_again(c, f);
    default:
        return -1;
    }
}

/* A tree's pipe between processes: the pool made it, with its data. */
static int pool_pipe(struct child *c, const struct ctx_fd *f)
{
    for (uint32_t i = 0; c->pool && i < c->pool->npipes; i++)
        if (c->pool->pipes[i].ino == f->id.ino)
            return c->pool->pipes[i].end[(f->open_flags & O_ACCMODE) == O_RDONLY ? 0 : 1];
    return -1;
}

/* A tree's unix socket whose peer is in another process: the pool made the pair. */
static int pool_pair_end(struct child *c, const struct ctx_fd *f)
{
    for (uint32_t i = 0; c->pool && i < c->pool->nsocks; i++)
        if (c->pool->socks[i].ino == f->id.ino)
            return c->pool->socks[i].fd;
    return -1;
}

static int pool_origin(struct child *c, uint32_t member, int fd)
{
    for (uint32_t i = 0; c->pool && i < c->pool->norigins; i++)
        if (c->pool->origins[i].member == member && c->pool->origins[i].fd == fd)
            return c->pool->origins[i].obj;
    return -1;
}

/* After every other fd exists: an epoll instance and its interest list. */
static void restore_epoll(struct child *c, const struct ctx_fd *f)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        child_fail(c, errno, "cannot create the epoll of fd %d: %s", f->fd, strerror(errno));
    const struct ctx_epoll_target *t = (const void *)((const char *)(f + 1) + f->path_len);
    for (uint32_t k = 0; k < f->extra_len / sizeof *t; k++) {
        struct epoll_event ev = { .events = t[k].events, .data.u64 = t[k].data };
        if (epoll_ctl(ep, EPOLL_CTL_ADD, t[k].fd, &ev) < 0)
            child_fail(c, errno, "cannot watch fd %d again in the epoll of fd %d: %s", t[k].fd,
                       f->fd, strerror(errno));
    }
    place_fd(c, ep, f);
    if (ep != f->fd)
        close(ep);
}

void restore_fds(struct child *c)
{
    struct ctx_image *img = c->img;
    struct pipe_made *made = calloc(img->proc->nfds + 1, sizeof *made);
    struct pair_made *pairs = calloc(img->proc->nfds + 1, sizeof *pairs);
    struct fifo_made *fifos = calloc(img->proc->nfds + 1, sizeof *fifos);
    uint32_t nmade = 0, npairs = 0, nfifos = 0;
    if (!made || !pairs || !fifos)
        child_fail(c, ENOMEM, "out of memory");
    for (uint32_t i = 0; i < img->proc->nfds; i++) {
        const struct ctx_fd *f = img->fds[i];
        int obj, own = 1;
        if ((obj = pool_origin(c, c->member, f->fd)) >= 0) { /* another process has it too */
            place_fd(c, obj, f);
            continue;
        }
        switch (f->kind) {
        case CTX_FD_INHERIT:
            if (c->stdio[f->source_fd] < 0)
                child_fail(c, EBADF, "fd %d was cr_restart's fd %d, which is closed", f->fd,
                           f->source_fd);
            obj = c->stdio[f->source_fd];
            own = 0;
            break;
        case CTX_FD_PIPE:
            obj = pool_pipe(c, f);
            if (obj < 0)
                obj = pipe_end(c, made, &nmade, f);
            own = 0;
            break;
        case CTX_FD_FIFO:
            obj = fifo_end(c, fifos, &nfifos, f);
            break;
        case CTX_FD_DUP: /* records come in fd order: its source is in place already */
            if (fcntl(f->source_fd, F_GETFD) < 0)
                child_fail(c, EBADMSG, "fd %d duplicates fd %d, which was not restored", f->fd,
                           f->source_fd);
            obj = f->source_fd;
            own = 0;
            break;
        case CTX_FD_UNIX_PAIR:
            obj = pool_pair_end(c, f);
            if (obj < 0)
                obj = pair_end(c, pairs, &npairs, f);
            own = 0;
            break;
        case CTX_FD_SOCKET_DEAD:
            obj = dead_socket(c, f);
            break;
        case CTX_FD_LISTEN:
            obj = pool_pair_end(c, f); /* the tree's, when processes share it */
            if (obj < 0)
                obj = listen_again(c, f);
            else
                own = 0;
            break;
        case CTX_FD_EPOLL:
            continue; /* below, once its targets exist */
        case CTX_FD_SHARED:
            obj = pool_origin(c, (uint32_t)f->pos, f->source_fd);
            if (obj < 0)
                child_fail(c, EBADMSG, "fd %d shares the file of fd %d of process number %llu, "
                           "which the tree does not have", f->fd, f->source_fd,
                           (unsigned long long)f->pos);
            own = 0;
            break;
        default:
            obj = fd_object(c, f, i);
        }
        place_fd(c, obj, f);
        if (f->kind >= CTX_FD_PIPE)
            fcntl(f->fd, F_SETFL, (int)(f->open_flags & O_NONBLOCK));
        if (own && obj != f->fd)
            close(obj);
    }
    for (uint32_t i = 0; i < img->proc->nfds; i++)
        if (img->fds[i]->kind == CTX_FD_EPOLL)
            restore_epoll(c, img->fds[i]);
    for (uint32_t i = 0; i < nmade; i++) {
        close(made[i].end[0]);
        close(made[i].end[1]);
    }
    for (uint32_t i = 0; i < npairs; i++) {
        close(pairs[i].end[0]);
        close(pairs[i].end[1]);
    }
    for (uint32_t i = 0; i < nfifos; i++)
        close(fifos[i].keeper);
    free(made);
    free(pairs);
    free(fifos);
    for (int i = 0; i < 3; i++)
        if (c->stdio[i] >= 0)
            close(c->stdio[i]);
}

