/* eventfds: saved with their counter and semaphore mode (from /proc/self/fdinfo),
 * made again with them at restart; a new one for each process that shares one in a
 * tree (made by its pool: fd_object()). */
#define _GNU_SOURCE
#include "resources.h"

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

static int make_eventfd(struct child *c, const struct ctx_fd *f, uint32_t rec)
{
    (void)rec;
    int obj = eventfd(f->pos > UINT32_MAX ? 0 : (unsigned)f->pos, EFD_CLOEXEC |
                      (f->flags & CTX_FD_EVENTFD_SEMAPHORE ? EFD_SEMAPHORE : 0));
    if (obj < 0 || (f->pos > UINT32_MAX && write(obj, &f->pos, 8) != 8))
        child_fail(c, errno, "cannot create the eventfd of fd %d: %s", f->fd, strerror(errno));
    return obj;
}

const struct cr_fd_ops cr_fd_eventfd = {
    .kind = CTX_FD_EVENTFD, .name = "eventfd", .make = make_eventfd,
    .restore_nonblock = 1,
};
