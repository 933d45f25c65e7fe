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
#include <unistd.h>

#include "context_reader.h"

/* Puts bytes back where the master reads them: written to the slave (TIOCGPTPEER)
 * with output processing off for the moment, so that they come out as they are. */
static int pty_inject(int master, const char *data, size_t len)
{
    int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0)
        return -errno;
    struct termios tio, raw;
    int rc = tcgetattr(slave, &tio);
    if (rc == 0) {
        raw = tio;
        raw.c_oflag &= ~(tcflag_t)OPOST;
        rc = tcsetattr(slave, TCSANOW, &raw);
    }
    size_t done = 0;
    while (rc == 0 && done < len) {
        ssize_t w = write(slave, data + done, len - done);
        if (w <= 0)
            rc = -1;
        else
            done += (size_t)w;
    }
    int e = rc < 0 ? errno : 0;
    tcsetattr(slave, TCSANOW, &tio);
    close(slave);
    return e ? -e : 0;
}

/* ---- dump ---- */

static int is_pty_master(const char *path)
{
    return !strcmp(path, "/dev/ptmx") || !strcmp(path, "/dev/pts/ptmx");
}

/* /dev/pts/N: N, or -1. */
static int pts_index(const struct stat *st)
{
    unsigned maj = major(st->st_rdev);
    return S_ISCHR(st->st_mode) && maj >= 136 && maj <= 143
               ? (int)((maj - 136) * 256 + minor(st->st_rdev)) : -1;
}

/* A terminal whose master is in the process (or the tree): it comes back as a new pair. */
static int pty_inside(const struct dump *d, const struct fd_scan *s, int index)
{
    for (int i = 0; i < s->nptys; i++)
        if (s->ptys[i] == index)
            return 1;
    for (uint32_t i = 0; d->tree && i < d->tree->nptys; i++)
        if (d->tree->ptys[i] == index)
            return 1;
    return 0;
}

/* Which terminals have their master in the process. */
static int scan_ptys(struct dump *d, struct fd_scan *s, const int *fds, int n)
{
    (void)d;
    for (int i = 0; i < n; i++) {
        char path[CTX_PATH_MAX];
        struct stat st;
        if (fd_path(fds[i], path, sizeof path, &st) < 0)
            continue;
        int index = -1;
        if (S_ISCHR(st.st_mode) && is_pty_master(path) && ioctl(fds[i], TIOCGPTN, &index) == 0 &&
            s->nptys < 64)
            s->ptys[s->nptys++] = index;
    }
    return 0;
}

/* What the terminal wrote and the master has not read yet: taken from the master and
 * written back at once through the slave with output processing off (the bytes are
 * already processed), so that the running process loses nothing; the copy goes into
 * the record.  Returns its length, or -errno. */
static ssize_t pending_output(int master, char *buf, size_t cap)
{
    int n = 0;
    if (ioctl(master, FIONREAD, &n) < 0 || n <= 0)
        return 0;
    if ((size_t)n > cap)
        return -E2BIG;
    int fl = fcntl(master, F_GETFL);
    fcntl(master, F_SETFL, fl | O_NONBLOCK);
    ssize_t got = 0;
    while (got < n) {
        ssize_t r = read(master, buf + got, (size_t)(n - got));
        if (r <= 0)
            break;
        got += r;
    }
    fcntl(master, F_SETFL, fl);
    if (got > 0 && pty_inject(master, buf, (size_t)got) < 0)
        return -EIO; /* (cannot happen short of memory: the terminal's buffer held them) */
    return got;
}

static int add_pty(struct dump *d, int fd, const char *path, const struct stat *st, int index,
                   int master)
{
    char *data = d->scratch + FDINFO_OFF + FDINFO_SIZE;
    ssize_t len = master ? pending_output(fd, data, BOUNCE_SIZE - FDINFO_SIZE < CTX_PTY_DATA_MAX
                                                       ? BOUNCE_SIZE - FDINFO_SIZE : CTX_PTY_DATA_MAX)
                         : 0;
    if (len < 0)
        return fail(d, (int)-len, "fd %d: the terminal %s holds more unread output than can be saved",
                    fd, path);
    struct ctx_fd *r = fd_record(d, fd, CTX_FD_PTY, path,
                                 master ? sizeof(struct ctx_pty) + (size_t)len : 0);
    if (!r)
        return fail(d, E2BIG, "too much metadata");
    r->pos = (uint64_t)index;
    file_id_of(st, &r->id);
    if (master) {
        /* what was typed (written to the master) and the terminal's reader has not read
         * cannot be read without taking it from the program, nor typed again exactly
         * (the line discipline processed it): refused rather than lost.  (In canonical
         * mode a line not ended yet is not told by FIONREAD and goes unnoticed.) */
        int slave = ioctl(fd, TIOCGPTPEER, O_RDONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK), typed = 0;
        if (slave >= 0) {
            if (ioctl(slave, FIONREAD, &typed) < 0)
                typed = 0;
            close(slave);
        }
        if (typed > 0)
            return fail(d, ENOTSUP, "fd %d: the terminal of the master %s (/dev/pts/%d) holds %d "
                        "bytes written to it and not read yet by its reader, which cannot be put "
                        "back as they were; let the program read them before the checkpoint",
                        fd, path, index, typed);
        r->flags = CTX_FD_PTY_MASTER;
        struct ctx_pty *p = (struct ctx_pty *)((char *)(r + 1) + r->path_len);
        struct termios tio; /* the master's TCGETS is its terminal's */
        struct winsize ws;
        if (tcgetattr(fd, &tio) < 0 || ioctl(fd, TIOCGWINSZ, &ws) < 0)
            return fail(d, errno, "reading the settings of the terminal at fd %d", fd);
        memcpy(p->termios, &tio, sizeof tio < sizeof p->termios ? sizeof tio : sizeof p->termios);
        p->rows = ws.ws_row, p->cols = ws.ws_col, p->xpixel = ws.ws_xpixel, p->ypixel = ws.ws_ypixel;
        memcpy(p + 1, data, (size_t)len);
    }
    return 0;
}

static int is_master(const struct cr_fd_probe *p)
{
    return S_ISCHR(p->st.st_mode) && is_pty_master(p->path);
}

static int detect_pty(const struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    return is_master(p) || (pts_index(&p->st) >= 0 && pty_inside(d, s, pts_index(&p->st)));
}

static int save_pty(struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    (void)s;
    if (!is_master(p))
        return add_pty(d, p->fd, p->path, &p->st, pts_index(&p->st), 0);
    int index = -1;
    if (ioctl(p->fd, TIOCGPTN, &index) < 0)
        return fail(d, errno, "fd %d: cannot read which terminal the master %s is", p->fd, p->path);
    return add_pty(d, p->fd, p->path, &p->st, index, 1);
}

/* ---- restart ---- */

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
    size_t pending = f->extra_len - sizeof *p; /* the output its master had not read */
    if (pending && pty_inject(m, (const char *)(p + 1), pending) < 0)
        child_fail(c, errno, "cannot put back the unread output of the terminal %s: %s",
                   out->slave, strerror(errno));
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

/* A master's extra: its terminal's settings, then what it had not read. */
static int valid_pty(const struct ctx_fd *f, const struct ctx_fd *const *earlier, uint32_t n)
{
    (void)earlier, (void)n;
    return f->pos <= 1048575 && f->flags <= CTX_FD_PTY_MASTER &&
           (f->flags ? f->extra_len >= sizeof(struct ctx_pty) &&
                           f->extra_len <= sizeof(struct ctx_pty) + CTX_PTY_DATA_MAX
                     : f->extra_len == 0);
}

const struct cr_fd_ops cr_fd_pty = {
    .kind = CTX_FD_PTY, .name = "pty", .scan = scan_ptys, .detect = detect_pty, .save = save_pty,
    .make = pty_object, .restore_nonblock = 1, .pool = pool_add_pty, .pool_early = 1,
    .valid = valid_pty, .describe = describe_path,
};
