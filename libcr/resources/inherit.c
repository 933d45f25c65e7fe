/* Stdio that leads outside the process (or the tree): a terminal, or the end of a pipe
 * or socket to the outside, saved as which of fds 0-2 it is and handed over at restart
 * to cr_restart's own fd of that number.  Another fd that leads outside comes back
 * disconnected (disconnected.c). */
#define _GNU_SOURCE
#include "resources.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

/* ---- dump ---- */

static int is_terminal(const struct stat *st)
{
    unsigned maj = major(st->st_rdev);
    return S_ISCHR(st->st_mode) && (maj == 136 || maj == 4 || maj == 5);
}

static int same_stdio(const struct stat *a, const struct stat *st)
{
    return a->st_mode && a->st_ino == st->st_ino && a->st_dev == st->st_dev &&
           a->st_rdev == st->st_rdev;
}

/* Which of the (process's or tree's) stdio this fd is, its own number first. */
int stdio_source(struct fd_scan *s, int fd, const struct stat *st)
{
    if (fd < 3 && same_stdio(&s->stdio[fd], st))
        return fd;
    for (int i = 0; i < 3; i++)
        if (same_stdio(&s->stdio[i], st))
            return i;
    return -1;
}

/* What fds 0-2 are, when they can be handed over. */
static int scan_stdio(struct dump *d, struct fd_scan *s, const int *fds, int n)
{
    (void)fds, (void)n;
    for (int i = 0; i < 3 && d->tree; i++) { /* a tree's stdio is its root's */
        s->stdio[i].st_dev = d->tree->stdio[i].dev;
        s->stdio[i].st_ino = d->tree->stdio[i].ino;
        s->stdio[i].st_rdev = d->tree->stdio[i].rdev;
        s->stdio[i].st_mode = d->tree->stdio[i].valid ? S_IFIFO : 0;
    }
    for (int i = 0; i < 3 && !d->tree; i++)
        if (fstat(i, &s->stdio[i]) < 0 || !(is_terminal(&s->stdio[i]) ||
                                            S_ISFIFO(s->stdio[i].st_mode) ||
                                            S_ISSOCK(s->stdio[i].st_mode)))
            memset(&s->stdio[i], 0, sizeof s->stdio[i]);
    return 0;
}

/* A terminal, or the end of a pipe that leads outside (sockets: socket.c). */
static int detect_inherit(const struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    (void)d, (void)s;
    return is_terminal(&p->st) || S_ISFIFO(p->st.st_mode);
}

static int save_inherit(struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    int fd = p->fd;
    int source = stdio_source(s, fd, &p->st);
    if (source < 0) /* not stdio: there is no one to hand it to */
        return save_disconnected(d, p, is_terminal(&p->st));
    struct ctx_fd *r = fd_record(d, fd, CTX_FD_INHERIT, p->path, 0);
    if (!r)
        return fail(d, E2BIG, "too much metadata");
    r->source_fd = source;
    file_id_of(&p->st, &r->id);
    return 0;
}

/* ---- restart ---- */

static int restore_inherit(struct child *c, const struct ctx_fd *f, uint32_t rec, int *own)
{
    (void)rec;
    if (c->stdio[f->source_fd] < 0)
        child_fail(c, EBADF, "fd %d was cr_restart's fd %d, which is closed", f->fd,
                   f->source_fd);
    *own = 0;
    return c->stdio[f->source_fd];
}

/* One of cr_restart's fds 0-2. */
static int valid_inherit(const struct ctx_fd *f, const struct ctx_fd *const *earlier, uint32_t n)
{
    (void)earlier, (void)n;
    return f->extra_len == 0 && f->source_fd >= 0 && f->source_fd <= 2;
}

static void describe_inherit(const struct ctx_fd *f, FILE *out, const char *acc)
{
    fd_line(out, f, ctx_fd_kind_name(f->kind), acc);
    fprintf(out, "  cr_restart's fd %d (was %s)\n", f->source_fd, fd_rec_path(f));
}

const struct cr_fd_ops cr_fd_inherit = {
    .kind = CTX_FD_INHERIT, .name = "inherit", .scan = scan_stdio, .detect = detect_inherit,
    .save = save_inherit, .restore = restore_inherit,
    .valid = valid_inherit, .describe = describe_inherit,
};
