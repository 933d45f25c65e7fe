/* epoll instances: saved with their interest list (from /proc/self/fdinfo), made again
 * at restart once every other fd exists (an epoll inside an epoll after the inner one),
 * each target watched again with its events and data, under the fd number it was
 * added with: when that number no longer leads to the file (the fd was closed after a
 * dup, or reused), kcmp finds the fd that has the file (a CTX_REC_EPOLL_FILE) and the
 * restart adds it through a transient copy at the old number.  An edge-triggered
 * target whose edge the program took stays quiet after the restart
 * (mark_edges_taken).  One shared between processes of a tree is refused (shared.c). */
#define _GNU_SOURCE
#include "resources.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "context_reader.h"

static int detect_epoll(const struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    (void)d, (void)s;
    return !strcmp(p->path, "anon_inode:[eventpoll]");
}

/* Whether fd has the file of the epoll's interest added as tfd (the toff-th of that
 * number): 1 yes, 0 no, -errno when kcmp cannot tell. */
static int holds_target(int ep, int32_t tfd, uint32_t toff, int fd)
{
    struct kcmp_epoll_slot slot = { (uint32_t)ep, (uint32_t)tfd, toff };
    pid_t self = getpid();
    long r = syscall(SYS_kcmp, self, self, KCMP_EPOLL_TFD, fd, &slot);
    if (r < 0)
        return errno == EBADF ? 0 : -errno; /* EBADF: fd is not open */
    return r == 0;
}

/* The fd that has the file of target k (the number it was added with first), or
 * -errno with the message in d. */
static int find_holder(struct dump *d, struct fd_scan *s, int ep, const struct ctx_epoll_target *t,
                       uint32_t k)
{
    uint32_t toff = 0;
    for (uint32_t j = 0; j < k; j++)
        toff += t[j].fd == t[k].fd;
    int rc = holds_target(ep, t[k].fd, toff, t[k].fd);
    for (int i = 0; rc == 0 && i < s->nfds; i++)
        if ((rc = holds_target(ep, t[k].fd, toff, s->fds[i])) == 1)
            return s->fds[i];
    if (rc < 0)
        return fail(d, -rc, "cannot tell which file the epoll at fd %d watches as fd %d (kcmp)", ep,
                    t[k].fd);
    if (rc == 0)
        return fail(d, ENOTSUP, "the epoll at fd %d watches a file added as fd %d that the process "
                    "has no fd of any more (another process keeps it open): it cannot be watched "
                    "again; close the epoll or keep an fd of the file", ep, t[k].fd);
    return t[k].fd;
}

/* Which edge-triggered targets are ready with their edge taken (CTX_EPOLL_EDGE_TAKEN).
 * The ready list cannot be seen without taking it: it is taken (epoll_wait, no wait:
 * the program's threads are frozen) and each target on it put back at once
 * (EPOLL_CTL_MOD queues a ready one again, and arms a one-shot one again); an
 * edge-triggered target ready and not on it had its edge taken.  Only when each target
 * is told by its data and still has its number, and none is EPOLLEXCLUSIVE (which
 * cannot be modified): else nothing is marked, and a ready target reports once more
 * after a restart, as before. */
static void mark_edges_taken(int ep, struct ctx_epoll_target *t, size_t n)
{
    static struct epoll_event got[1024];
    int edge = 0;
    if (n > sizeof got / sizeof *got)
        return;
    for (size_t k = 0; k < n; k++) {
        if (t[k].events & EPOLLEXCLUSIVE)
            return;
        for (size_t j = 0; j < k; j++)
            if (t[j].data == t[k].data)
                return;
        struct stat a;
        if (fstat(t[k].fd, &a) < 0)
            return;
        edge |= (t[k].events & (EPOLLET | EPOLLONESHOT)) == EPOLLET;
    }
    if (!edge)
        return;
    int m = epoll_wait(ep, got, (int)n, 0);
    char pending[1024] = { 0 };
    for (int i = 0; i < m; i++)
        for (size_t k = 0; k < n; k++)
            if (t[k].data == got[i].data.u64) {
                pending[k] = 1;
                struct epoll_event ev = { .events = t[k].events, .data.u64 = t[k].data };
                epoll_ctl(ep, EPOLL_CTL_MOD, t[k].fd, &ev);
            }
    for (size_t k = 0; k < n; k++) {
        if ((t[k].events & (EPOLLET | EPOLLONESHOT)) != EPOLLET || pending[k])
            continue;
        struct pollfd pf = { t[k].fd, (short)(t[k].events & 0xffff), 0 };
        if (poll(&pf, 1, 0) == 1 && (pf.revents & (t[k].events | POLLERR | POLLHUP)))
            t[k].events |= CTX_EPOLL_EDGE_TAKEN;
    }
}

static int save_epoll(struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    int fd = p->fd;
    const char *info = fdinfo(d, fd);
    if (!info)
        return -EIO;
    size_t n = 0;
    for (const char *q = info; (q = strstr(q, "tfd:")); q += 4)
        n++;
    struct ctx_fd *r = fd_record(d, fd, CTX_FD_EPOLL, p->path, n * sizeof(struct ctx_epoll_target));
    if (!r)
        return fail(d, E2BIG, "too much metadata");
    file_id_of(&p->st, &r->id);
    struct ctx_epoll_target *t = (void *)((char *)(r + 1) + r->path_len);
    for (const char *q = info; (q = strstr(q, "tfd:")); t++) {
        char *e;
        t->fd = (int32_t)strtol(q + 4, &e, 10);
        const char *ev = strstr(e, "events:"), *da = strstr(e, "data:");
        if (!ev || !da)
            return fail(d, EIO, "cannot parse the interest list of the epoll at fd %d", fd);
        t->events = (uint32_t)strtoul(ev + 7, NULL, 16);
        t->data = strtoull(da + 5, NULL, 16);
        q = da;
    }
    t = (void *)((char *)(r + 1) + r->path_len);
    int moved = 0;
    for (uint32_t k = 0; k < n; k++) {
        int holder = find_holder(d, s, fd, t, k);
        if (holder < 0)
            return holder;
        if (holder == t[k].fd)
            continue;
        moved = 1;
        struct ctx_epoll_file *ef = rec_add(d, CTX_REC_EPOLL_FILE, sizeof *ef);
        if (!ef)
            return fail(d, E2BIG, "too much metadata");
        *ef = (struct ctx_epoll_file){ .epoll_fd = fd, .target = k, .holder = holder };
    }
    if (!moved && !shared_in_tree(d, fd))
        mark_edges_taken(fd, t, n);
    return 0;
}

/* ---- restart ---- */

static const struct ctx_epoll_target *targets(const struct ctx_fd *f, uint32_t *n)
{
    *n = f->extra_len / sizeof(struct ctx_epoll_target);
    return (const void *)((const char *)(f + 1) + f->path_len);
}

/* The fd that has the file of target k. */
static int holder_of(const struct child *c, const struct ctx_fd *f, uint32_t k)
{
    for (uint32_t i = 0; i < c->img->nepoll_files; i++)
        if (c->img->epoll_files[i]->epoll_fd == f->fd && c->img->epoll_files[i]->target == k)
            return c->img->epoll_files[i]->holder;
    uint32_t n;
    return targets(f, &n)[k].fd;
}

/* Every file it watches is in place (an epoll it watches among them). */
static int ready_epoll(struct child *c, const struct ctx_fd *f)
{
    uint32_t n;
    targets(f, &n);
    for (uint32_t k = 0; k < n; k++)
        if (fcntl(holder_of(c, f, k), F_GETFD) < 0)
            return 0;
    return 1;
}

/* Watches the file of fd holder as number tfd: a copy of it there for the time of the
 * call, and whatever had that number back after. */
static void watch_as(struct child *c, const struct ctx_fd *f, int ep, int holder, int32_t tfd,
                     struct epoll_event *ev)
{
    int had = fcntl(tfd, F_GETFD), saved = had >= 0 ? fcntl(tfd, F_DUPFD_CLOEXEC, c->high) : -1;
    if ((had >= 0 && saved < 0) || dup2(holder, tfd) < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, tfd, ev) < 0)
        child_fail(c, errno, "cannot watch the file of fd %d again as fd %d in the epoll of fd %d: %s",
                   holder, tfd, f->fd, strerror(errno));
    if (saved >= 0) {
        if (dup3(saved, tfd, (had & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0)
            child_fail(c, errno, "cannot put fd %d back: %s", tfd, strerror(errno));
        close(saved);
    } else {
        close(tfd);
    }
}

static const struct ctx_fd *edges[256]; /* restored epolls with edges taken */
static uint32_t nedges;

static int restore_epoll(struct child *c, const struct ctx_fd *f, uint32_t rec, int *own)
{
    (void)rec, (void)own;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        child_fail(c, errno, "cannot create the epoll of fd %d: %s", f->fd, strerror(errno));
    ep = move_high(c, ep); /* the numbers below are the image's */
    uint32_t n;
    const struct ctx_epoll_target *t = targets(f, &n);
    int taken = 0;
    for (uint32_t k = 0; k < n; k++) {
        struct epoll_event ev = { .events = t[k].events & ~CTX_EPOLL_EDGE_TAKEN, .data.u64 = t[k].data };
        int holder = holder_of(c, f, k);
        taken |= (t[k].events & CTX_EPOLL_EDGE_TAKEN) != 0;
        if (holder != t[k].fd)
            watch_as(c, f, ep, holder, t[k].fd, &ev);
        else if (epoll_ctl(ep, EPOLL_CTL_ADD, t[k].fd, &ev) < 0)
            child_fail(c, errno, "cannot watch fd %d again in the epoll of fd %d: %s", t[k].fd,
                       f->fd, strerror(errno));
    }
    if (taken && nedges < sizeof edges / sizeof *edges)
        edges[nedges++] = f;
    else if (taken)
        child_fail(c, E2BIG, "more than %zu epolls with edges taken", sizeof edges / sizeof *edges);
    return ep;
}

/* Once every fd has its data (a socket's queued datagrams come last: local_sock.c; the
 * table has this kind last for that): the ready list of each epoll with edges taken is
 * taken, and every target but those put back (each has its number: mark_edges_taken). */
static void finish_edges(struct child *c)
{
    for (uint32_t i = 0; i < nedges; i++) {
        const struct ctx_fd *f = edges[i];
        uint32_t n;
        const struct ctx_epoll_target *t = targets(f, &n);
        struct epoll_event *got = calloc(n, sizeof *got);
        if (!got)
            child_fail(c, ENOMEM, "out of memory");
        epoll_wait(f->fd, got, (int)n, 0);
        free(got);
        for (uint32_t k = 0; k < n; k++) {
            struct epoll_event ev = { .events = t[k].events, .data.u64 = t[k].data };
            if (!(t[k].events & CTX_EPOLL_EDGE_TAKEN) && epoll_ctl(f->fd, EPOLL_CTL_MOD, t[k].fd, &ev) < 0)
                child_fail(c, errno, "cannot watch fd %d again in the epoll of fd %d: %s", t[k].fd,
                           f->fd, strerror(errno));
        }
    }
    nedges = 0;
}

static int valid_epoll(const struct ctx_fd *f, const struct ctx_fd *const *earlier, uint32_t n)
{
    (void)earlier, (void)n;
    if (f->extra_len % sizeof(struct ctx_epoll_target))
        return 0;
    uint32_t nt;
    const struct ctx_epoll_target *t = targets(f, &nt);
    for (uint32_t k = 0; k < nt; k++) {
        struct ctx_epoll_target x; /* after the path: not aligned */
        memcpy(&x, &t[k], sizeof x);
        if ((x.events & CTX_EPOLL_EDGE_TAKEN) && (x.events & (EPOLLET | EPOLLONESHOT | EPOLLEXCLUSIVE)) != EPOLLET)
            return 0;
    }
    return 1;
}

static void describe_epoll(const struct ctx_fd *f, FILE *out, const char *acc)
{
    fd_line(out, f, ctx_fd_kind_name(f->kind), acc);
    fprintf(out, "  watching %u fds\n", (unsigned)(f->extra_len / sizeof(struct ctx_epoll_target)));
}

const struct cr_fd_ops cr_fd_epoll = {
    .kind = CTX_FD_EPOLL, .name = "epoll", .detect = detect_epoll, .save = save_epoll,
    .restore = restore_epoll, .late = 1, .ready = ready_epoll, .finish = finish_edges,
    .valid = valid_epoll, .describe = describe_epoll,
};
