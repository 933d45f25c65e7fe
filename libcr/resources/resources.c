/* The table of fd kinds, the lookups the drivers and the reader use, and the helpers
 * several kinds share. */
#define _GNU_SOURCE
#include "resources.h"

#include <stdlib.h>

#include "context_reader.h"

extern const struct cr_fd_ops cr_fd_shared, cr_fd_dup, cr_fd_file, cr_fd_dir, cr_fd_device,
    cr_fd_pipe, cr_fd_fifo, cr_fd_eventfd, cr_fd_epoll, cr_fd_timerfd, cr_fd_signalfd,
    cr_fd_pty, cr_fd_socket, cr_fd_listen, cr_fd_unix_pair, cr_fd_inherit;

const struct cr_fd_ops *const cr_fd_kinds[] = {
    &cr_fd_shared, &cr_fd_dup, &cr_fd_file, &cr_fd_dir, &cr_fd_device, &cr_fd_pipe,
    &cr_fd_fifo, &cr_fd_eventfd, &cr_fd_epoll, &cr_fd_timerfd, &cr_fd_signalfd, &cr_fd_pty,
    &cr_fd_socket, &cr_fd_listen, &cr_fd_unix_pair, &cr_fd_inherit, NULL,
};

const struct cr_fd_ops *cr_fd_kind(uint32_t kind)
{
    for (const struct cr_fd_ops *const *k = cr_fd_kinds; *k; k++)
        if ((*k)->kind == kind)
            return *k;
    return NULL;
}

const char *ctx_fd_kind_name(uint32_t kind)
{
    const struct cr_fd_ops *k = cr_fd_kind(kind);
    return k ? k->name : "?";
}

int fd_object(struct child *c, const struct ctx_fd *f, uint32_t rec)
{
    const struct cr_fd_ops *k = cr_fd_kind(f->kind);
    return k && k->make ? k->make(c, f, rec) : -1;
}
