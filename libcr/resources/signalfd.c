/* signalfds: saved with their signal mask (from /proc/self/fdinfo), made again with
 * it at restart; a new one for each process that shares one in a tree (made by its
 * pool: fd_object()). */
#define _GNU_SOURCE
#include "resources.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>

static int detect_signalfd(const struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    (void)d, (void)s;
    return !strcmp(p->path, "anon_inode:[signalfd]");
}

static int save_signalfd(struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    (void)s;
    int fd = p->fd;
    const char *info = fdinfo(d, fd);
    int found;
    if (!info)
        return -EIO;
    unsigned long long mask = fdinfo_hex(info, "sigmask:", &found);
    if (!found)
        return fail(d, ENOTSUP, "fd %d: cannot read the signalfd's mask from fdinfo", fd);
    struct ctx_fd *r = fd_record(d, fd, CTX_FD_SIGNALFD, p->path, 0);
    if (!r)
        return fail(d, E2BIG, "too much metadata");
    r->pos = mask;
    file_id_of(&p->st, &r->id);
    return 0;
}

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

static void describe_signalfd(const struct ctx_fd *f, FILE *out, const char *acc)
{
    fd_line(out, f, ctx_fd_kind_name(f->kind), acc);
    fprintf(out, "  signals 0x%llx\n", (unsigned long long)f->pos);
}

const struct cr_fd_ops cr_fd_signalfd = {
    .kind = CTX_FD_SIGNALFD, .name = "signalfd", .detect = detect_signalfd,
    .save = save_signalfd, .make = make_signalfd, .restore_nonblock = 1,
    .valid = valid_no_extra, .describe = describe_signalfd,
};
