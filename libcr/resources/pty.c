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

/* What the terminal wrote and the master has not read yet: taken from the master, to
 * be written back (pty_inject) through the slave with output processing off (the bytes
 * are already processed), so that the running process loses nothing; the copy goes
 * into the record.  Returns its length, or -errno. */
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
    return got;
}

static int add_pty(struct dump *d, int fd, const char *path, const struct stat *st, int index,
                   int master)
{
    struct ctx_fd *r;
    if (!master) {
        if (!(r = fd_record(d, fd, CTX_FD_PTY, path, 0)))
            return fail(d, E2BIG, "too much metadata");
        r->pos = (uint64_t)index;
        file_id_of(st, &r->id);
        return 0;
    }
    /* the bounce area: what was typed and not read, then what the master has not read */
    struct ctx_pty_input in = { 0, 0 };
    char *typed = d->scratch + FDINFO_OFF + FDINFO_SIZE;
    char *data = typed + CTX_PTY_INPUT_MAX;
    size_t room = BOUNCE_SIZE - FDINFO_SIZE - CTX_PTY_INPUT_MAX;
    ssize_t len = pending_output(fd, data, room < CTX_PTY_DATA_MAX ? room : CTX_PTY_DATA_MAX);
    if (len < 0)
        return fail(d, (int)-len, "fd %d: the terminal %s holds more unread output than can be saved",
                    fd, path);
    struct termios tio; /* the master's TCGETS is its terminal's */
    struct winsize ws;
    int e = tcgetattr(fd, &tio) < 0 || ioctl(fd, TIOCGWINSZ, &ws) < 0 ? errno : 0;
    /* what was typed and not read (taken and typed again at once: pty_input.c), while
     * the master's unread output is out of the way of the echo that tells it is in */
    const char *why = "";
    ssize_t got = e ? 0 : pty_input_take(fd, &tio, typed, CTX_PTY_INPUT_MAX, &in.nlines, &why);
    if (len > 0 && pty_inject(fd, data, (size_t)len) < 0)
        return fail(d, EIO, "fd %d: cannot put back the unread output of the terminal %s: the "
                    "program lost it", fd, path); /* (short of memory: it was held before) */
    if (e)
        return fail(d, e, "reading the settings of the terminal at fd %d", fd);
    if (got < 0)
        return fail(d, (int)-got, "fd %d: the terminal of the master %s (/dev/pts/%d) holds bytes "
                    "written to it and not read yet by its reader: %s (%s); let the program "
                    "read them before the checkpoint", fd, path, index, why, strerror((int)-got));
    in.len = (uint32_t)got;
    size_t in_size = got ? sizeof in + (size_t)got : 0;
    r = fd_record(d, fd, CTX_FD_PTY, path, sizeof(struct ctx_pty) + in_size + (size_t)len);
    if (!r)
        return fail(d, E2BIG, "too much metadata");
    r->pos = (uint64_t)index;
    file_id_of(st, &r->id);
    r->flags = CTX_FD_PTY_MASTER | (got ? CTX_FD_PTY_INPUT : 0);
    struct ctx_pty *p = (struct ctx_pty *)((char *)(r + 1) + r->path_len);
    memcpy(p->termios, &tio, sizeof tio < sizeof p->termios ? sizeof tio : sizeof p->termios);
    p->rows = ws.ws_row, p->cols = ws.ws_col, p->xpixel = ws.ws_xpixel, p->ypixel = ws.ws_ypixel;
    if (got) {
        memcpy(p + 1, &in, sizeof in);
        memcpy((char *)(p + 1) + sizeof in, typed, (size_t)got);
    }
    memcpy((char *)(p + 1) + in_size, data, (size_t)len);
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
    /* what was typed and not read (before the output: out of the way of its echo) */
    const char *x = (const char *)(p + 1);
    if (f->flags & CTX_FD_PTY_INPUT) {
        struct ctx_pty_input in;
        memcpy(&in, x, sizeof in);
        int rc = pty_input_type(m, &tio, x + sizeof in, in.len, in.nlines);
        if (rc < 0)
            child_fail(c, -rc, "cannot type again on the new pseudo-terminal %s the %u bytes typed "
                       "on /dev/pts/%llu and not read yet: %s", out->slave, in.len,
                       (unsigned long long)f->pos, strerror(-rc));
        x += sizeof in + in.len;
    }
    size_t pending = f->extra_len - (size_t)(x - (const char *)p); /* the output its master had not read */
    if (pending && pty_inject(m, x, pending) < 0)
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

/* A master's extra: its terminal's settings, what was typed and not read, then what
 * it had not read. */
static int valid_pty(const struct ctx_fd *f, const struct ctx_fd *const *earlier, uint32_t n)
{
    (void)earlier, (void)n;
    if (f->pos > 1048575 || (f->flags & ~(uint32_t)(CTX_FD_PTY_MASTER | CTX_FD_PTY_INPUT)))
        return 0;
    if (!(f->flags & CTX_FD_PTY_MASTER))
        return f->flags == 0 && f->extra_len == 0;
    if (f->extra_len < sizeof(struct ctx_pty))
        return 0;
    size_t rest = f->extra_len - sizeof(struct ctx_pty);
    const char *x = (const char *)fd_rec_extra(f) + sizeof(struct ctx_pty);
    if (f->flags & CTX_FD_PTY_INPUT) {
        struct ctx_pty_input in;
        struct termios tio;
        if (rest < sizeof in)
            return 0;
        memcpy(&in, x, sizeof in);
        memcpy(&tio, fd_rec_extra(f), sizeof tio);
        if (!in.len || in.len > CTX_PTY_INPUT_MAX || in.len > rest - sizeof in ||
            !valid_pty_input(&tio, x + sizeof in, in.len, in.nlines))
            return 0;
        rest -= sizeof in + in.len;
    }
    return rest <= CTX_PTY_DATA_MAX;
}

/* A terminal by its path; a master's bytes typed and not read yet. */
static void describe_pty(const struct ctx_fd *f, FILE *out, const char *acc)
{
    describe_path(f, out, acc);
    if (!(f->flags & CTX_FD_PTY_INPUT))
        return;
    struct ctx_pty_input in;
    struct termios tio;
    memcpy(&tio, fd_rec_extra(f), sizeof tio);
    memcpy(&in, (const char *)fd_rec_extra(f) + sizeof(struct ctx_pty), sizeof in);
    const char *x = (const char *)fd_rec_extra(f) + sizeof(struct ctx_pty) + sizeof in;
    size_t at = 0, bytes = 0;
    for (uint32_t i = 0; i < in.nlines; i++) { /* (validated) */
        uint32_t n;
        memcpy(&n, x + at, sizeof n);
        at += sizeof n + n;
        bytes += n;
    }
    if (tio.c_lflag & ICANON)
        fprintf(out, "         typed and not read yet: %u lines (%zu bytes) and %zu bytes of one "
                "not ended, typed again at restart\n", in.nlines, bytes, in.len - at);
    else
        fprintf(out, "         typed and not read yet: %u bytes (not canonical), typed again at "
                "restart\n", in.len);
}

const struct cr_fd_ops cr_fd_pty = {
    .kind = CTX_FD_PTY, .name = "pty", .scan = scan_ptys, .detect = detect_pty, .save = save_pty,
    .make = pty_object, .restore_nonblock = 1, .pool = pool_add_pty, .pool_early = 1,
    .valid = valid_pty, .describe = describe_pty,
};
