/* epoll instances: saved with their interest list (from /proc/self/fdinfo), made again
 * at restart once every other fd exists, each target watched again with its events
 * and data.  One shared between processes of a tree is refused (shared.c). */
#define _GNU_SOURCE
#include "resources.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

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
    .kind = CTX_FD_EPOLL, .name = "epoll", .restore = restore_epoll, .late = 1,
};
