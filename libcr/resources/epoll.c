/* epoll instances: saved with their interest list (from /proc/self/fdinfo), made again
 * at restart once every other fd exists, each target watched again with its events
 * and data.  One shared between processes of a tree is refused (shared.c). */
#define _GNU_SOURCE
#include "resources.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

static int detect_epoll(const struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    (void)d, (void)s;
    return !strcmp(p->path, "anon_inode:[eventpoll]");
}

static int save_epoll(struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    (void)s;
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
    return 0;
}

/* After every other fd exists: an epoll instance and its interest list. */
static int restore_epoll(struct child *c, const struct ctx_fd *f, uint32_t rec, int *own)
{
    (void)rec, (void)own;
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
    return ep;
}

const struct cr_fd_ops cr_fd_epoll = {
    .kind = CTX_FD_EPOLL, .name = "epoll", .detect = detect_epoll, .save = save_epoll,
    .restore = restore_epoll, .late = 1,
};
