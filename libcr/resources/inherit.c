/* Stdio that leads outside the process (or the tree): a terminal, or the end of a pipe
 * or socket to the outside, saved as which of fds 0-2 it is and handed over at restart
 * to cr_restart's own fd of that number. */
#define _GNU_SOURCE
#include "resources.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

static int restore_inherit(struct child *c, const struct ctx_fd *f, uint32_t rec, int *own)
{
    (void)rec;
    if (c->stdio[f->source_fd] < 0)
        child_fail(c, EBADF, "fd %d was cr_restart's fd %d, which is closed", f->fd,
                   f->source_fd);
    *own = 0;
    return c->stdio[f->source_fd];
}

const struct cr_fd_ops cr_fd_inherit = {
    .kind = CTX_FD_INHERIT, .name = "inherit", .restore = restore_inherit,
};
