/* File locks the process holds: flock locks and OFD locks (they belong to an open file)
 * and POSIX record locks (they belong to the process), found in each fd's
 * /proc/self/fdinfo "lock:" lines and saved after its record (CTX_REC_LOCK).  At
 * restart the flock and OFD locks are taken again once every fd is placed; a POSIX
 * lock is dropped by any close of a file it covers, and cr_restart still closes its
 * own fds (the files it maps among them), so the restorer takes those last, after a
 * check here that no other process holds them now.  A lock another process took in
 * the meantime fails the restart: the program never runs without its lock.  A lease
 * (F_SETLEASE) is taken again like a flock lock; one being broken is refused. */
#define _GNU_SOURCE
#include "resources.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>

#include "context_reader.h"
#include "restore_plan.h"

/* ---- dump ---- */

static const char *next_word(const char *p, const char **end)
{
    while (*p == ' ' || *p == '\t')
        p++;
    *end = p + strcspn(p, " \t\n");
    return p;
}

static int word_is(const char *w, const char *end, const char *s)
{
    return (size_t)(end - w) == strlen(s) && !memcmp(w, s, (size_t)(end - w));
}

/* One "lock:" line of fdinfo ("1: POSIX  ADVISORY  WRITE 123 fe:00:45 0 EOF"). */
static int parse_lock(struct dump *d, const struct cr_fd_probe *p, const char *line, struct ctx_lock *l)
{
    const char *w, *e;
    next_word(line, &e);                   /* the lock's number, "1:" */
    w = next_word(e, &e);
    if (word_is(w, e, "FLOCK"))
        l->kind = CTX_LOCK_FLOCK;
    else if (word_is(w, e, "POSIX"))
        l->kind = CTX_LOCK_POSIX;
    else if (word_is(w, e, "OFDLCK"))
        l->kind = CTX_LOCK_OFD;
    else if (word_is(w, e, "LEASE"))
        l->kind = CTX_LOCK_LEASE;
    else if (word_is(w, e, "DELEG"))
        return fail(d, ENOTSUP, "fd %d holds an NFS delegation on %s, which is not saved",
                    p->fd, p->path);
    else
        return fail(d, ENOTSUP, "fd %d: a lock of an unknown kind on %s (fdinfo: \"%.*s\")",
                    p->fd, p->path, (int)strcspn(line, "\n"), line);
    w = next_word(e, &e);                  /* ADVISORY; a lease's ACTIVE, BREAKING */
    if (l->kind == CTX_LOCK_LEASE && !word_is(w, e, "ACTIVE"))
        return fail(d, EAGAIN, "fd %d holds a lease on %s that another process is breaking: "
                    "try again once the program has given it up (F_SETLEASE F_UNLCK)", p->fd, p->path);
    w = next_word(e, &e);
    if (word_is(w, e, "READ"))
        l->type = F_RDLCK;
    else if (word_is(w, e, "WRITE"))
        l->type = F_WRLCK;
    else
        return fail(d, ENOTSUP, "fd %d: a lock on %s that is neither read nor write (fdinfo: "
                    "\"%.*s\")", p->fd, p->path, (int)strcspn(line, "\n"), line);
    next_word(e, &e);                      /* pid */
    next_word(e, &e);                      /* device:inode */
    w = next_word(e, &e);
    char *num_end;
    long long start = strtoll(w, &num_end, 10);
    if (num_end != e || num_end == w || start < 0)
        return fail(d, EIO, "fd %d: cannot parse the lock line \"%.*s\"", p->fd,
                    (int)strcspn(line, "\n"), line);
    const char *last = next_word(e, &e);
    if (l->kind == CTX_LOCK_FLOCK || l->kind == CTX_LOCK_LEASE)
        return 0;
    l->start = (uint64_t)start;
    if (!word_is(last, e, "EOF")) {
        long long end = strtoll(last, &num_end, 10);
        if (num_end != e || end < start)
            return fail(d, EIO, "fd %d: cannot parse the lock line \"%.*s\"", p->fd,
                        (int)strcspn(line, "\n"), line);
        l->len = (uint64_t)(end - start) + 1;
    }
    return 0;
}

int save_locks(struct dump *d, const struct cr_fd_probe *p, uint32_t saved_as)
{
    const char *info = fdinfo(d, p->fd);
    if (!info)
        return -EIO;
    for (const char *q = info; (q = strstr(q, "\nlock:")); q += 6) {
        struct ctx_lock l = { .fd = p->fd };
        int rc = parse_lock(d, p, q + 6, &l);
        if (rc < 0)
            return rc;
        /* a dup's locks are its source's; a tree's shared open file carries its flock
         * and OFD locks in the process that saved it, each process its own POSIX ones */
        if (saved_as == CTX_FD_DUP || (saved_as == CTX_FD_SHARED && l.kind != CTX_LOCK_POSIX))
            continue;
        if (saved_as == CTX_FD_INHERIT)
            return fail(d, ENOTSUP, "fd %d (%s) holds a lock, but it is stdio that cr_restart lends "
                        "at restart, where the lock would not be this one: release it before the "
                        "checkpoint", p->fd, p->path);
        struct ctx_lock *r = rec_add(d, CTX_REC_LOCK, sizeof *r);
        if (!r)
            return fail(d, E2BIG, "too much metadata");
        *r = l;
    }
    return 0;
}

/* ---- restart ---- */

static const char *fd_path_of(const struct ctx_image *img, int32_t fd)
{
    for (uint32_t i = 0; i < img->proc->nfds; i++)
        if (img->fds[i]->fd == fd)
            return (const char *)(img->fds[i] + 1);
    return "?";
}

_Static_assert(sizeof(struct flock) == sizeof(((struct rp_lock *)0)->flock), "struct flock");

static struct flock flock_of(const struct ctx_lock *l)
{
    return (struct flock){ .l_type = (short)l->type, .l_whence = SEEK_SET,
                           .l_start = (off_t)l->start, .l_len = (off_t)l->len };
}

/* The path last: the message has room for some 250 bytes. */
static void lock_taken(struct child *c, const struct ctx_lock *l, int err, const char *what)
{
    child_fail(c, err, "another process locks the file of fd %d now: its %s lock cannot be taken "
               "again, and the program must not run without it; restart once released (lslocks "
               "names the holder): %s", l->fd, what, fd_path_of(c->img, l->fd));
}

void restore_locks(struct child *c)
{
    for (uint32_t i = 0; i < c->img->nlocks; i++) {
        const struct ctx_lock *l = c->img->locks[i];
        struct flock fl = flock_of(l);
        if (l->kind == CTX_LOCK_FLOCK) {
            if (flock(l->fd, (l->type == F_WRLCK ? LOCK_EX : LOCK_SH) | LOCK_NB) < 0)
                lock_taken(c, l, errno, l->type == F_WRLCK ? "exclusive flock" : "shared flock");
        } else if (l->kind == CTX_LOCK_LEASE) {
            /* a read lease wants no writer of the file anywhere, a write lease no other
             * open of it */
            if (fcntl(l->fd, F_SETLEASE, l->type == F_WRLCK ? F_WRLCK : F_RDLCK) < 0)
                child_fail(c, errno, "cannot take the %s lease of fd %d again: %s (another "
                           "process has the file open%s now; restart once it is closed): %s",
                           l->type == F_WRLCK ? "write" : "read", l->fd, strerror(errno),
                           l->type == F_WRLCK ? "" : " for writing", fd_path_of(c->img, l->fd));
        } else if (l->kind == CTX_LOCK_OFD) {
            if (fcntl(l->fd, F_OFD_SETLK, &fl) < 0)
                lock_taken(c, l, errno, l->type == F_WRLCK ? "OFD write" : "OFD read");
        } else if (fcntl(l->fd, F_GETLK, &fl) < 0 || fl.l_type != F_UNLCK) {
            /* taken by the restorer (posix_lock_plan); here only whether it can be */
            lock_taken(c, l, fl.l_type != F_UNLCK ? EAGAIN : errno,
                       l->type == F_WRLCK ? "POSIX write" : "POSIX read");
        }
    }
}

uint32_t posix_lock_plan(const struct ctx_image *img, struct rp_lock *out)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < img->nlocks; i++) {
        const struct ctx_lock *l = img->locks[i];
        if (l->kind != CTX_LOCK_POSIX)
            continue;
        if (out) {
            struct flock fl = flock_of(l);
            out[n] = (struct rp_lock){ .fd = l->fd };
            memcpy(&out[n].flock, &fl, sizeof fl);
        }
        n++;
    }
    return n;
}
