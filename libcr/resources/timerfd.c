/* timerfds: saved with their clock, time left, interval and unread expirations (from
 * /proc/self/fdinfo), armed again at restart; a new one for each process that shares
 * one in a tree (made by its pool: fd_object()). */
#define _GNU_SOURCE
#include "resources.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>

static int make_timerfd(struct child *c, const struct ctx_fd *f, uint32_t rec)
{
    (void)rec;
    struct ctx_timerfd tv; /* after the path: not aligned */
    memcpy(&tv, (const char *)(f + 1) + f->path_len, sizeof tv);
    const struct ctx_timerfd *t = &tv;
    struct itimerspec it = { { (time_t)t->interval_sec, (long)t->interval_nsec },
                             { (time_t)t->value_sec, (long)t->value_nsec } };
    if (t->ticks) /* expirations not read yet: one comes at once (the count is lost) */
        it.it_value = (struct timespec){ 0, 1 };
    int obj = timerfd_create(t->clockid, TFD_CLOEXEC);
    if (obj < 0 || timerfd_settime(obj, 0, &it, NULL) < 0)
        child_fail(c, errno, "cannot set up the timerfd of fd %d: %s", f->fd, strerror(errno));
    return obj;
}

const struct cr_fd_ops cr_fd_timerfd = {
    .kind = CTX_FD_TIMERFD, .name = "timerfd", .make = make_timerfd,
    .restore_nonblock = 1,
};
