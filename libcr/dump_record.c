/* The dumper's small helpers that neither allocate nor lock (dump.h): a failure's
 * message, a /proc file read whole, a new record, a file's identity, an fd record.
 * Compiled into libcrcore too, for the fd kinds' save halves (resources/resources.h). */
#define _GNU_SOURCE
#include "dump.h"
#include "resources/resources.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int fail(struct dump *d, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->msg, d->msglen, fmt, ap);
    va_end(ap);
    return -err;
}

ssize_t read_file(struct dump *d, const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(d, errno, "opening %s", path);
    size_t len = 0;
    for (;;) {
        if (len == cap - 1) {
            close(fd);
            return fail(d, E2BIG, "%s is larger than %zu bytes", path, cap);
        }
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            return fail(d, e, "reading %s", path);
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = 0;
    return (ssize_t)len;
}

void *rec_add(struct dump *d, uint32_t type, size_t len)
{
    size_t need = sizeof(struct ctx_rec) + ((len + 7) & ~7UL);
    if (d->recs_len + need > RECS_SIZE)
        return NULL;
    struct ctx_rec *r = (struct ctx_rec *)(d->scratch + RECS_OFF + d->recs_len);
    memset(r, 0, need);
    r->type = type;
    r->length = (uint32_t)((len + 7) & ~7UL);
    r->seq = d->nrecs++;
    d->recs_len += need;
    return r + 1;
}

void file_id_of(const struct stat *st, struct ctx_file_id *id)
{
    id->dev = st->st_dev;
    id->ino = st->st_ino;
    id->size = (uint64_t)st->st_size;
    id->mtime_sec = st->st_mtim.tv_sec;
    id->mtime_nsec = st->st_mtim.tv_nsec;
    id->mode = st->st_mode;
}

/* The last record added gives back what its extra did not use (pipe_record reserves a
 * pipe's capacity, then fills what was in it). */
void fd_record_trim(struct dump *d, struct ctx_fd *r, size_t extra)
{
    struct ctx_rec *h = (struct ctx_rec *)r - 1;
    size_t old = sizeof *h + h->length;
    size_t len = sizeof *r + r->path_len + extra;
    h->length = (uint32_t)((len + 7) & ~7UL);
    d->recs_len -= old - (sizeof *h + h->length);
    r->extra_len = (uint32_t)extra;
}

struct ctx_fd *fd_record(struct dump *d, int fd, uint32_t kind, const char *path, size_t extra)
{
    size_t plen = strlen(path) + 1;
    struct ctx_fd *r = rec_add(d, CTX_REC_FD, sizeof *r + plen + extra);
    if (!r)
        return NULL;
    r->fd = fd;
    r->kind = kind;
    r->open_flags = (uint32_t)fcntl(fd, F_GETFL);
    r->fd_flags = (uint32_t)fcntl(fd, F_GETFD);
    r->source_fd = -1;
    r->path_len = (uint32_t)plen;
    r->extra_len = (uint32_t)extra;
    memcpy(r + 1, path, plen);
    d->proc->nfds++;
    return r;
}

/* The driver's step for one fd (dump_fds.c, ptrace_dump.c): saved through the first
 * kind that recognizes it, with what it carries (locks, owner, socket attachments). */
int cr_dump_one_fd(struct dump *d, struct fd_scan *s, int fd)
{
    char path[CTX_PATH_MAX];
    struct cr_fd_probe p = { .fd = fd, .path = path };
    if (fstat(fd, &p.st) < 0)
        return errno == EBADF ? 0 : fail(d, errno, "inspecting fd %d", fd);
    ssize_t n = fd_path(fd, path, sizeof path, &p.st);
    if (n < 0)
        return errno == EBADF ? 0 : fail(d, errno, "inspecting fd %d", fd);
    p.len = (size_t)n;
    for (const struct cr_fd_ops *const *k = cr_fd_kinds; *k; k++) {
        if (!(*k)->detect || !(*k)->detect(d, s, &p))
            continue;
        uint32_t before = d->proc->nfds;
        int rc = (*k)->save(d, s, &p);
        /* its other fds are told by the inode it has now (a socket waiting in a backlog
         * with data is replaced while it is saved: resources/tcp_pair.c) */
        struct stat now;
        if (rc == 0 && fstat(fd, &now) == 0)
            p.st.st_ino = now.st_ino;
        if (rc == 0 && !(*k)->alias && d->proc->nfds > before && s->nseen < MAX_SEEN)
            s->seen[s->nseen++] = (typeof(s->seen[0])){ fd, p.st.st_dev, p.st.st_ino };
        if (rc == 0 && d->proc->nfds > before)
            rc = save_locks(d, &p, (*k)->kind);
        if (rc == 0 && d->proc->nfds > before)
            rc = save_owner(d, &p, (*k)->kind);
        if (rc == 0 && d->proc->nfds > before)
            rc = save_sock_attach(d, &p);
        return rc;
    }
    return fail(d, ENOTSUP, "fd %d is %s, a kind of file this version cannot save", fd, path);
}
