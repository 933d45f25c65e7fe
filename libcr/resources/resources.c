/* The table of fd kinds (the order is the dumper's: the first kind that recognizes an
 * fd saves it), the lookups the drivers and the reader use, and the helpers several
 * kinds share. */
#define _GNU_SOURCE
#include "resources.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "context_reader.h"

extern const struct cr_fd_ops cr_fd_shared, cr_fd_dup, cr_fd_file, cr_fd_dir, cr_fd_device,
    cr_fd_pipe, cr_fd_fifo, cr_fd_eventfd, cr_fd_epoll, cr_fd_timerfd, cr_fd_signalfd,
    cr_fd_pty, cr_fd_socket, cr_fd_listen, cr_fd_unix_pair, cr_fd_inherit, cr_fd_pidfd,
    cr_fd_mqueue, cr_fd_inotify, cr_fd_opath, cr_fd_local_socket, cr_fd_sockpair,
    cr_fd_disconnected, cr_fd_tcp, cr_fd_step_conn, cr_fd_step_dgram, cr_fd_pmi, cr_fd_pmix_link, cr_fd_netlink, cr_fd_launcher_sock,
    cr_fd_inotify_queued, cr_fd_mqueue_notify, cr_fd_fanotify;

/* Identity first (an open file description another fd has), then by what the fd is (a
 * message queue before the regular files it looks like); terminals and pipes that
 * lead outside are stdio's, near the end; epoll (told by its name alone) last. */
const struct cr_fd_ops *const cr_fd_kinds[] = {
    &cr_fd_shared, &cr_fd_dup, &cr_fd_mqueue, &cr_fd_file, &cr_fd_dir, &cr_fd_device,
    &cr_fd_pipe, &cr_fd_fifo, &cr_fd_eventfd, &cr_fd_pidfd, &cr_fd_inotify, &cr_fd_fanotify,
    &cr_fd_timerfd, &cr_fd_signalfd, &cr_fd_pty, &cr_fd_pmi, &cr_fd_pmix_link, &cr_fd_netlink, &cr_fd_socket, &cr_fd_listen,
    &cr_fd_unix_pair, &cr_fd_local_socket, &cr_fd_sockpair, &cr_fd_inherit, &cr_fd_opath,
    &cr_fd_disconnected, &cr_fd_tcp, &cr_fd_step_conn, &cr_fd_step_dgram, &cr_fd_launcher_sock,
    &cr_fd_inotify_queued, /* saved by inotify's save */
    &cr_fd_mqueue_notify,  /* saved by mqueue's save */
    &cr_fd_epoll, /* last: its finish, once every other kind's data is in place */
    NULL,
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

/* The reader: a kind without a validator is refused like an unknown one, so that no
 * kind's records go unchecked. */
int ctx_fd_record_ok(const struct ctx_fd *f, const struct ctx_fd *const *earlier, uint32_t n)
{
    const struct cr_fd_ops *k = cr_fd_kind(f->kind);
    return k && k->valid && k->valid(f, earlier, n);
}

void ctx_fd_describe(const struct ctx_fd *f, FILE *out)
{
    const char *acc = (f->open_flags & 3) == 0 ? "r" : (f->open_flags & 3) == 1 ? "w" : "rw";
    const struct cr_fd_ops *k = cr_fd_kind(f->kind);
    if (k && k->describe)
        k->describe(f, out, acc);
    else
        describe_path(f, out, acc);
}

const char *ctx_fd_outside(const struct ctx_fd *f)
{
    const struct cr_fd_ops *k = cr_fd_kind(f->kind);
    return k && k->outside ? k->outside(f) : NULL;
}

void fd_line(FILE *out, const struct ctx_fd *f, const char *name, const char *acc)
{
    fprintf(out, "    %-4d %-7s %-2s", f->fd, name, acc);
}

void describe_path(const struct ctx_fd *f, FILE *out, const char *acc)
{
    fd_line(out, f, ctx_fd_kind_name(f->kind), acc);
    if ((f->flags & CTX_FD_DELETED) && f->source_fd >= 0)
        fprintf(out, " pos %llu  %s, the deleted file of fd %d opened again\n",
                (unsigned long long)f->pos, fd_rec_path(f), f->source_fd);
    else
        fprintf(out, "%s pos %llu  %s%s\n", (f->open_flags & 02000) ? "+append" : "",
                (unsigned long long)f->pos, fd_rec_path(f), !(f->flags & CTX_FD_DELETED) ? ""
                : S_ISDIR(f->id.mode) ? " (deleted: made again at restart, then removed)"
                                        : ", contents saved");
}

int valid_no_extra(const struct ctx_fd *f, const struct ctx_fd *const *earlier, uint32_t n)
{
    (void)earlier, (void)n;
    return f->extra_len == 0;
}

int fd_object(struct child *c, const struct ctx_fd *f, uint32_t rec)
{
    const struct cr_fd_ops *k = cr_fd_kind(f->kind);
    return k && k->make ? k->make(c, f, rec) : -1;
}

ssize_t fd_path(int fd, char *path, size_t cap, struct stat *st)
{
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t len = readlink(link, path, cap - 1);
    if (len < 0 || fstat(fd, st) < 0)
        return -1;
    path[len] = 0;
    return len;
}

/* /proc/self/fdinfo/FD into the scratch, NUL-terminated. */
const char *fdinfo(struct dump *d, int fd)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
    char *buf = d->scratch + FDINFO_OFF;
    return read_file(d, path, buf, FDINFO_SIZE) < 0 ? NULL : buf;
}

unsigned long long fdinfo_hex(const char *info, const char *key, int *found)
{
    const char *p = strstr(info, key);
    *found = p != NULL;
    return p ? strtoull(p + strlen(key), NULL, 16) : 0;
}
