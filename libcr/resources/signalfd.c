/* signalfds: saved with their signal mask (from /proc/self/fdinfo), made again with
 * it at restart; a new one for each process that shares one in a tree (made by its
 * pool: fd_object()). */
#define _GNU_SOURCE
#include "resources.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>

static int make_signalfd(struct child *c, const struct ctx_fd *f, uint32_t rec)
{
    (void)rec;
    sigset_t mask;
    sigemptyset(&mask);
    memcpy(&mask, &f->pos, sizeof f->pos);
    int obj = signalfd(-1, &mask, SFD_CLOEXEC);
    if (obj < 0)
        child_fail(c, errno, "cannot create the signalfd of fd %d: %s", f->fd, strerror(errno));
    return obj;
}

const struct cr_fd_ops cr_fd_signalfd = {
    .kind = CTX_FD_SIGNALFD, .name = "signalfd", .make = make_signalfd,
    .restore_nonblock = 1,
};
