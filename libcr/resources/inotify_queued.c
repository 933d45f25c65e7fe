/* An inotify instance with events not read yet at the checkpoint: its watches as an
 * instance's (inotify.c), its events taken by the runtime, which serves them again by
 * read() in the process that goes on and in a restored one (../inotify_replay.c says
 * why and what that costs), and saved here for the image (cr_info shows them).  At
 * restart the instance is made again with its watches and the runtime's sentinel: the
 * IN_IGNORED of a watch under the same number, which keeps it readable until the
 * restored runtime has served the events. */
#define _GNU_SOURCE
#include "resources.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>

#include "context_reader.h"
#include "inotify.h"

/* ---- dump ---- */

int save_inotify_queued(struct dump *d, const struct cr_fd_probe *p, const char *watches, size_t wlen,
                        size_t expect)
{
    int fd = p->fd;
    struct ctx_inotify_queue q = { .watches_len = (uint32_t)wlen };
    if (expect > CTX_INOTIFY_EVENTS_MAX)
        return fail(d, E2BIG, "fd %d: its inotify instance has %zu bytes of events not read yet, "
                    "more than a checkpoint saves (%u): nothing was written and the process keeps "
                    "running: checkpoint it once it has read them", fd, expect,
                    CTX_INOTIFY_EVENTS_MAX);
    struct ctx_fd *r = fd_record(d, fd, CTX_FD_INOTIFY_QUEUED, p->path, sizeof q + wlen + expect);
    if (!r)
        return fail(d, E2BIG, "fd %d: its inotify instance's %zu bytes of events not read yet do "
                    "not fit in the checkpoint's records: nothing was written and the process "
                    "keeps running: checkpoint it once it has read them", fd, expect);
    file_id_of(&p->st, &r->id);
    char *extra = (char *)(r + 1) + r->path_len;
    memcpy(extra + sizeof q, watches, wlen);
    ssize_t got = d->inotify_keep(d, fd, extra + sizeof q + wlen, expect, &q.sentinel_wd, &q.nevents);
    if (got < 0)
        return (int)got;
    if (got == 0) { /* only an earlier checkpoint's sentinel was left: a plain instance */
        r->kind = CTX_FD_INOTIFY;
        memmove(extra, extra + sizeof q, wlen);
        fd_record_trim(d, r, wlen);
        return 0;
    }
    q.events_len = (uint32_t)got;
    memcpy(extra, &q, sizeof q);
    fd_record_trim(d, r, sizeof q + wlen + (size_t)got);
    return 0;
}

/* ---- restart ---- */

static struct ctx_inotify_queue queue_of(const struct ctx_fd *f)
{
    struct ctx_inotify_queue q;
    memcpy(&q, fd_rec_extra(f), sizeof q);
    return q;
}

static int check_queued(const struct ctx_fd *f, const struct cr_restart_opts *o, char *err, size_t len)
{
    (void)o;
    return inotify_check_watches(f, (const char *)fd_rec_extra(f) + sizeof(struct ctx_inotify_queue),
                                 queue_of(f).watches_len, err, len);
}

static int make_queued(struct child *c, const struct ctx_fd *f, uint32_t rec)
{
    (void)rec;
    struct ctx_inotify_queue q = queue_of(f);
    return inotify_rebuild(c, f, (const char *)fd_rec_extra(f) + sizeof q, q.watches_len, q.sentinel_wd);
}

/* Whole events, each with its name inside (NUL-padded, as the kernel gives them). */
static int events_valid(const char *ev, size_t len, uint32_t nevents)
{
    uint32_t n = 0;
    for (size_t off = 0; off < len; n++) {
        struct inotify_event e;
        if (len - off < sizeof e)
            return 0;
        memcpy(&e, ev + off, sizeof e);
        off += sizeof e;
        if (e.len > len - off || (e.len && ev[off + e.len - 1] != 0))
            return 0;
        off += e.len;
    }
    return n == nevents;
}

/* A queue header, watches as an instance's, a sentinel numbered after every watch, and
 * the events. */
static int valid_queued(const struct ctx_fd *f, const struct ctx_fd *const *earlier, uint32_t n)
{
    (void)earlier, (void)n;
    struct ctx_inotify_queue q;
    if (f->extra_len < sizeof q)
        return 0;
    q = queue_of(f);
    const char *extra = (const char *)fd_rec_extra(f) + sizeof q;
    int32_t max_wd;
    return q.events_len > 0 && q.events_len <= CTX_INOTIFY_EVENTS_MAX &&
           (uint64_t)sizeof q + q.watches_len + q.events_len == f->extra_len &&
           inotify_watches_valid(extra, q.watches_len, &max_wd) && q.sentinel_wd > max_wd &&
           q.sentinel_wd <= CTX_INOTIFY_WD_MAX &&
           events_valid(extra + q.watches_len, q.events_len, q.nevents);
}

static void describe_queued(const struct ctx_fd *f, FILE *out, const char *acc)
{
    struct ctx_inotify_queue q = queue_of(f);
    const char *extra = (const char *)fd_rec_extra(f) + sizeof q, *ev = extra + q.watches_len;
    fd_line(out, f, ctx_fd_kind_name(f->kind), acc);
    inotify_describe_watches(out, extra, q.watches_len);
    fprintf(out, "  %u events not read (%u bytes), served first by the runtime; watch %d "
            "keeps the instance readable meanwhile:\n", q.nevents, q.events_len, q.sentinel_wd);
    for (size_t off = 0; off < q.events_len;) {
        struct inotify_event e;
        memcpy(&e, ev + off, sizeof e);
        fprintf(out, "           watch %d: mask 0x%x cookie %u  %s\n", e.wd, e.mask, e.cookie,
                e.len ? ev + off + sizeof e : "");
        off += sizeof e + e.len;
    }
}

const struct cr_fd_ops cr_fd_inotify_queued = {
    .kind = CTX_FD_INOTIFY_QUEUED, .name = "inotify with events queued",
    .check = check_queued, .make = make_queued, .restore_nonblock = 1,
    .valid = valid_queued, .describe = describe_queued,
};
