/* Pseudo-terminals whose master is in the process (or the tree): the master with its
 * terminal's settings and size, slaves by index; they come back as a new pair, made by
 * the tree's pool when several processes have it (before any other shared object). */
#define _GNU_SOURCE
#include "resources.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <termios.h>

#include "context_reader.h"

/* A new pseudo-terminal pair for a saved master (its settings, its size). */
static void pty_make(struct child *c, const struct ctx_fd *f, struct cr_pool_pty *out)
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

static int pty_object(struct child *c, const struct ctx_fd *f, uint32_t rec)
{
    (void)rec;
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

/* Terminals first: a slave shared by several processes is opened from its pair. */
static void pool_add_pty(struct cr_pool_build *b, uint32_t member, uint32_t rec,
                         const struct ctx_fd *f)
{
    (void)member, (void)rec;
    int known = 0;
    for (uint32_t q = 0; q < b->pool->nptys; q++)
        known |= b->pool->ptys[q].index == (int32_t)f->pos;
    if (!(f->flags & CTX_FD_PTY_MASTER) || known)
        return;
    struct child pc = { .status_fd = b->status_fd, .high = b->low };
    struct cr_pool_pty *pp = &b->pool->ptys[b->pool->nptys++];
    pty_make(&pc, f, pp);
}

const struct cr_fd_ops cr_fd_pty = {
    .kind = CTX_FD_PTY, .name = "pty", .make = pty_object, .restore_nonblock = 1,
    .pool = pool_add_pty, .pool_early = 1,
};
