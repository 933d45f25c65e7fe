/* An fd whose open file description another fd already has: a dup() (or inherited
 * copy) of an earlier fd of the process, or an fd an earlier process of the tree has;
 * one offset, one object at restart (a tree's made once by its pool). */
#define _GNU_SOURCE
#include "resources.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <linux/kcmp.h>
#include <unistd.h>

#include "context_reader.h"

/* ---- dump ---- */

/* A process of a tree: the earlier process that has this fd's open file description. */
static const struct cr_ctl_share *shared_with(const struct dump *d, int fd)
{
    for (uint32_t i = 0; d->tree && i < d->tree->nshares; i++)
        if (d->tree->shares[i].fd == fd)
            return &d->tree->shares[i];
    return NULL;
}

static int detect_shared(const struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    (void)s;
    return shared_with(d, p->fd) != NULL;
}

static int save_shared(struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    (void)s;
    int fd = p->fd;
    const struct cr_ctl_share *sh = shared_with(d, fd);
    if (!strcmp(p->path, "anon_inode:[eventpoll]"))
        return fail(d, ENOTSUP, "fd %d is an epoll instance shared with process number %d of "
                    "the tree; this version cannot save one shared between processes "
                    "(close it in one of them, or open it with EPOLL_CLOEXEC)", fd, sh->member);
    if (!strcmp(p->path, "anon_inode:[pidfd]") || !strncmp(p->path, "pidfd:", 6))
        return fail(d, ENOTSUP, "fd %d is a pidfd shared with process number %d of the tree; "
                    "this version cannot save one shared between processes (close it in one of "
                    "them)", fd, sh->member);
    struct ctx_fd *r = fd_record(d, fd, CTX_FD_SHARED, "(shared)", 0);
    if (!r)
        return fail(d, E2BIG, "too much metadata");
    r->pos = (uint64_t)sh->member;
    r->source_fd = sh->origin_fd;
    file_id_of(&p->st, &r->id);
    return 0;
}

/* An earlier saved fd with the same open file description (kcmp), or -1. */
static int same_description(struct fd_scan *s, int fd, const struct stat *st)
{
    pid_t me = getpid();
    for (int i = 0; i < s->nseen; i++)
        if (s->seen[i].ino == st->st_ino && s->seen[i].dev == st->st_dev &&
            syscall(SYS_kcmp, me, me, KCMP_FILE, s->seen[i].fd, fd) == 0)
            return s->seen[i].fd;
    return -1;
}

/* stdio on a terminal or pipe is cr_restart's own, fd by fd, even when shared */
static int detect_dup(const struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    (void)d;
    return stdio_source(s, p->fd, &p->st) < 0 && same_description(s, p->fd, &p->st) >= 0;
}

static int save_dup(struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    int dup_of = same_description(s, p->fd, &p->st);
    struct ctx_fd *r = fd_record(d, p->fd, CTX_FD_DUP, "(dup)", 0);
    if (!r)
        return fail(d, E2BIG, "too much metadata");
    r->source_fd = dup_of;
    file_id_of(&p->st, &r->id);
    return 0;
}

/* ---- restart ---- */

int pool_origin(struct child *c, uint32_t member, int fd)
{
    for (uint32_t i = 0; c->pool && i < c->pool->norigins; i++)
        if (c->pool->origins[i].member == member && c->pool->origins[i].fd == fd)
            return c->pool->origins[i].obj;
    return -1;
}

static int restore_shared(struct child *c, const struct ctx_fd *f, uint32_t rec, int *own)
{
    (void)rec;
    int obj = pool_origin(c, (uint32_t)f->pos, f->source_fd);
    if (obj < 0)
        child_fail(c, EBADMSG, "fd %d shares the file of fd %d of process number %llu, "
                   "which the tree does not have", f->fd, f->source_fd,
                   (unsigned long long)f->pos);
    *own = 0;
    return obj;
}

/* Records come in fd order: its source is in place already. */
static int restore_dup(struct child *c, const struct ctx_fd *f, uint32_t rec, int *own)
{
    (void)rec;
    if (fcntl(f->source_fd, F_GETFD) < 0)
        child_fail(c, EBADMSG, "fd %d duplicates fd %d, which was not restored", f->fd,
                   f->source_fd);
    *own = 0;
    return f->source_fd;
}

static const struct ctx_fd *record_of(const struct ctx_tree *t, uint32_t member, int fd,
                                      uint32_t *rec)
{
    const struct ctx_image *img = member < t->n ? &t->images[member] : NULL;
    for (uint32_t k = 0; img && img->proc && k < img->proc->nfds; k++)
        if (img->fds[k]->fd == fd) {
            *rec = k;
            return img->fds[k];
        }
    return NULL;
}

/* Every open file a SHARED record names: made once, from its first process's record. */
static void pool_add_shared(struct cr_pool_build *b, uint32_t i, uint32_t k,
                            const struct ctx_fd *f)
{
    (void)k;
    int known = 0;
    for (uint32_t q = 0; q < b->pool->norigins; q++)
        known |= b->pool->origins[q].member == f->pos && b->pool->origins[q].fd == f->source_fd;
    if (known)
        return;
    uint32_t rec;
    const struct ctx_fd *of = f->pos < i ? record_of(b->t, (uint32_t)f->pos, f->source_fd, &rec) : NULL;
    if (!of)
        child_fail(b->rep, EBADMSG, "process %d: fd %d shares fd %d of process number "
                   "%llu, which has no such fd", b->t->procs[i].pid, f->fd,
                   f->source_fd, (unsigned long long)f->pos);
    struct child oc = { .img = &b->t->images[f->pos], .o = b->o, .status_fd = b->status_fd,
                        .pool = b->pool, .high = b->low };
    int obj = fd_object(&oc, of, rec);
    if (obj < 0)
        child_fail(b->rep, ENOTSUP, "process %d: fd %d is shared with another process "
                   "and is a %s, which cannot be shared again", b->t->procs[i].pid,
                   f->fd, ctx_fd_kind_name(of->kind));
    b->pool->origins[b->pool->norigins++] =
        (struct cr_pool_origin){ (uint32_t)f->pos, f->source_fd, pool_fd(b->rep, obj, b->low) };
}

/* The file of an earlier process of the tree (number pos), or of an earlier fd. */
static int valid_shared(const struct ctx_fd *f, const struct ctx_fd *const *earlier, uint32_t n)
{
    (void)earlier, (void)n;
    return f->extra_len == 0 && f->source_fd >= 0 && f->source_fd < CTX_FD_NUMBER_MAX &&
           f->pos < 65536;
}

static int valid_dup(const struct ctx_fd *f, const struct ctx_fd *const *earlier, uint32_t n)
{
    (void)earlier, (void)n;
    return f->extra_len == 0 && f->source_fd >= 0 && f->source_fd < f->fd;
}

static void describe_shared(const struct ctx_fd *f, FILE *out, const char *acc)
{
    fd_line(out, f, ctx_fd_kind_name(f->kind), acc);
    if (f->kind == CTX_FD_DUP)
        fprintf(out, "  the same open file as fd %d\n", f->source_fd);
    else
        fprintf(out, "  the file of fd %d of process number %llu\n", f->source_fd,
                (unsigned long long)f->pos);
}

const struct cr_fd_ops cr_fd_shared = {
    .kind = CTX_FD_SHARED, .name = "shared", .detect = detect_shared, .save = save_shared,
    .alias = 1, .restore = restore_shared, .restore_nonblock = 1, .pool = pool_add_shared,
    .valid = valid_shared, .describe = describe_shared,
};

const struct cr_fd_ops cr_fd_dup = {
    .kind = CTX_FD_DUP, .name = "dup", .detect = detect_dup, .save = save_dup, .alias = 1,
    .restore = restore_dup, .restore_nonblock = 1,
    .valid = valid_dup, .describe = describe_shared,
};
