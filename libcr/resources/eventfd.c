/* eventfds: saved with their counter and semaphore mode (from /proc/self/fdinfo),
 * made again with them at restart; a new one for each process that shares one in a
 * tree (made by its pool: fd_object()). */
#define _GNU_SOURCE
#include "resources.h"

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

static int detect_eventfd(const struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    (void)d, (void)s;
    return !strcmp(p->path, "anon_inode:[eventfd]");
}

static int save_eventfd(struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    (void)s;
    int fd = p->fd;
    const char *info = fdinfo(d, fd);
    int found, sem;
    if (!info)
        return -EIO;
    unsigned long long count = fdinfo_hex(info, "eventfd-count:", &found);
    if (!found)
        return fail(d, ENOTSUP, "fd %d: the kernel does not show the eventfd counter", fd);
    unsigned long long semaphore = fdinfo_hex(info, "eventfd-semaphore:", &sem);
    struct ctx_fd *r = fd_record(d, fd, CTX_FD_EVENTFD, p->path, 0);
    if (!r)
        return fail(d, E2BIG, "too much metadata");
    r->pos = count;
    r->flags = sem && semaphore ? CTX_FD_EVENTFD_SEMAPHORE : 0;
    file_id_of(&p->st, &r->id);
    return 0;
}

static int make_eventfd(struct child *c, const struct ctx_fd *f, uint32_t rec)
{
    (void)rec;
    int obj = eventfd(f->pos > UINT32_MAX ? 0 : (unsigned)f->pos, EFD_CLOEXEC |
                      (f->flags & CTX_FD_EVENTFD_SEMAPHORE ? EFD_SEMAPHORE : 0));
    if (obj < 0 || (f->pos > UINT32_MAX && write(obj, &f->pos, 8) != 8))
        child_fail(c, errno, "cannot create the eventfd of fd %d: %s", f->fd, strerror(errno));
    return obj;
}

static void describe_eventfd(const struct ctx_fd *f, FILE *out, const char *acc)
{
    fd_line(out, f, ctx_fd_kind_name(f->kind), acc);
    fprintf(out, "  counter %llu%s\n", (unsigned long long)f->pos,
            f->flags & CTX_FD_EVENTFD_SEMAPHORE ? ", semaphore" : "");
}

const struct cr_fd_ops cr_fd_eventfd = {
    .kind = CTX_FD_EVENTFD, .name = "eventfd", .detect = detect_eventfd, .save = save_eventfd,
    .make = make_eventfd, .restore_nonblock = 1,
    .valid = valid_no_extra, .describe = describe_eventfd,
};
