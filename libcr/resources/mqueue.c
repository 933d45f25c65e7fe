/* POSIX message queues.  One whose name still exists lives on in the kernel as a file
 * lives on its disk: saved by name and attributes, opened again by name (it must still
 * be there).  One deleted while open (mq_unlink) is the process's alone: its messages
 * are saved, and it comes back as a new deleted queue with them, in their order.
 * Linux has no way to read a queue without taking the messages, so the dumper takes
 * them through a descriptor of its own and puts them back at once, highest priority
 * first as they came (the same order again).  A notification the process registered
 * on it (mq_notify) is saved with it when the runtime knows its sigevent
 * (mqueue_notify.c); one of another process, or on a deleted queue holding messages
 * (refilling it would send the notification), is refused. */
#define _GNU_SOURCE
#include "resources.h"

#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "context_reader.h"
#include "mqueue.h"

#define MQUEUE_MAGIC 0x19800202

static long mq_getattr_(int fd, struct mq_attr *at)
{
    return syscall(SYS_mq_getsetattr, fd, NULL, at);
}

/* ---- dump ---- */

static int detect_mqueue(const struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    (void)d, (void)s;
    struct statfs sf;
    return S_ISREG(p->st.st_mode) && fstatfs(p->fd, &sf) == 0 && sf.f_type == MQUEUE_MAGIC;
}

/* A descriptor of the queue of fd with its own access mode and O_NONBLOCK. */
static int reopen_queue(int fd, int mode)
{
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
    return open(self, mode | O_NONBLOCK | O_CLOEXEC);
}

/* Takes every message out of the queue of fd into buf (prio, len, bytes each) and puts
 * them back in the same order; their bytes in *used. */
static int copy_messages(struct dump *d, int fd, const char *name, const struct mq_attr *at,
                         char *buf, size_t cap, size_t *used)
{
    size_t need = (size_t)at->mq_curmsgs * (2 * sizeof(uint32_t) + (size_t)at->mq_msgsize);
    if (need > cap)
        return fail(d, E2BIG, "fd %d: the POSIX message queue %s may hold %zu bytes of messages; "
                    "at most %zu can be saved", fd, name, need, cap);
    int r = reopen_queue(fd, O_RDONLY), w = reopen_queue(fd, O_WRONLY), rc = 0;
    if (r < 0 || w < 0)
        rc = fail(d, errno, "fd %d: opening the POSIX message queue %s to save its messages", fd, name);
    size_t n = 0;
    for (long k = 0; rc == 0 && k < at->mq_curmsgs; k++) {
        uint32_t prio = 0;
        long got = syscall(SYS_mq_timedreceive, r, buf + n + 8, (size_t)at->mq_msgsize, &prio, NULL);
        if (got < 0)
            break; /* fewer than it said: what was there is saved */
        uint32_t len = (uint32_t)got;
        memcpy(buf + n, &prio, 4);
        memcpy(buf + n + 4, &len, 4);
        n += 8 + len;
    }
    for (size_t off = 0; rc == 0 && off < n;) {
        uint32_t prio, len;
        memcpy(&prio, buf + off, 4);
        memcpy(&len, buf + off + 4, 4);
        if (syscall(SYS_mq_timedsend, w, buf + off + 8, (size_t)len, prio, NULL) < 0)
            rc = fail(d, errno, "fd %d: a message of the POSIX message queue %s could not be put "
                      "back after saving it (another process filled the queue meanwhile)", fd, name);
        off += 8 + len;
    }
    if (r >= 0)
        close(r);
    if (w >= 0)
        close(w);
    *used = n;
    return rc;
}

static int save_mqueue(struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    int fd = p->fd;
    char name[CTX_PATH_MAX];
    size_t len = p->len;
    int deleted = p->st.st_nlink == 0;
    if (deleted && len > 10 && !strcmp(p->path + len - 10, " (deleted)"))
        len -= 10;
    snprintf(name, sizeof name, "%.*s", (int)len, p->path);
    struct mq_attr at;
    char state[256] = "";
    /* read through fd itself where it can: the owner of a notification that closes any
     * fd of its queue removes it (only a write-only fd is opened again to be read, and
     * a notification it had is registered again below) */
    int wronly = (fcntl(fd, F_GETFL) & O_ACCMODE) == O_WRONLY;
    int r = wronly ? reopen_queue(fd, O_RDONLY) : fd;
    ssize_t n = r < 0 ? -1 : pread(r, state, sizeof state - 1, 0); /* "QSIZE:.. NOTIFY_PID:.." */
    int e = errno;
    if (r >= 0 && wronly)
        close(r);
    if (mq_getattr_(fd, &at) < 0 || n < 0)
        return fail(d, n < 0 ? e : errno, "fd %d: reading the POSIX message queue %s", fd, name);
    const char *np = strstr(state, "NOTIFY_PID:"), *nk = strstr(state, "NOTIFY:"),
               *ns = strstr(state, "SIGNO:");
    int first = deleted ? same_deleted_inode(d, s, p) : -1; /* another open of it, saved */
    if (first < -1)
        return first;
    struct ctx_mq_notify note = { 0 };
    int registered = np && strtol(np + 11, NULL, 10) != 0, kept = 0;
    if (registered && nk && ns && strtol(np + 11, NULL, 10) == getpid() && d->mq_notify_of &&
        d->mq_notify_of((uint64_t)p->st.st_dev, (uint64_t)p->st.st_ino, &note) == 0 &&
        note.notify == (int32_t)strtol(nk + 7, NULL, 10) && note.signo == (int32_t)strtol(ns + 6, NULL, 10))
        kept = note.notify == SIGEV_SIGNAL || note.notify == SIGEV_NONE;
    if (registered && kept && wronly) {
        struct sigevent ev;
        memset(&ev, 0, sizeof ev);
        ev.sigev_notify = note.notify;
        ev.sigev_signo = note.signo;
        memcpy(&ev.sigev_value, &note.value, sizeof ev.sigev_value);
        if (syscall(SYS_mq_notify, fd, &ev) < 0)
            return fail(d, errno, "fd %d: the notification on the POSIX message queue %s could "
                        "not be registered again after reading the queue: %s", fd, name,
                        strerror(errno));
    }
    if (registered && kept && deleted && first < 0 && at.mq_curmsgs > 0)
        return fail(d, ENOTSUP, "fd %d: the deleted POSIX message queue %s holds messages and a "
                    "notification (mq_notify): saving the messages takes them out and puts them "
                    "back, which would send it; let the program read them before the checkpoint",
                    fd, name);
    if (registered && !kept)
        return fail(d, ENOTSUP, "fd %d: a notification is registered on the POSIX message queue "
                    "%s (mq_notify) %s: remove it (mq_notify NULL) before the checkpoint", fd, name,
                    strtol(np + 11, NULL, 10) != getpid() ? "by another process, which is not saved"
                    : note.notify == SIGEV_THREAD ? "of kind SIGEV_THREAD (a thread of glibc's "
                    "waits on a netlink socket for it), which is not saved"
                    : "through a call the runtime did not see, so its value is unknown");
    char *buf = d->scratch + FDINFO_OFF + FDINFO_SIZE;
    size_t used = 0;
    if (deleted && first < 0 && at.mq_curmsgs > 0) {
        int rc = copy_messages(d, fd, name, &at, buf, BOUNCE_SIZE - FDINFO_SIZE, &used);
        if (rc < 0)
            return rc;
    }
    size_t head = kept ? sizeof note : 0;
    struct ctx_fd *rec = fd_record(d, fd, kept ? CTX_FD_MQUEUE_NOTIFY : CTX_FD_MQUEUE, name,
                                   head + sizeof(struct ctx_mqueue) + used);
    if (!rec)
        return fail(d, E2BIG, "too much metadata");
    rec->flags = deleted ? CTX_FD_DELETED : 0;
    rec->source_fd = first;
    file_id_of(&p->st, &rec->id);
    char *extra = (char *)(rec + 1) + rec->path_len;
    if (kept)
        memcpy(extra, &note, sizeof note);
    extra += head;
    struct ctx_mqueue mq = { .maxmsg = at.mq_maxmsg, .msgsize = at.mq_msgsize };
    for (size_t off = 0; off < used; mq.nmsgs++) {
        uint32_t mlen;
        memcpy(&mlen, buf + off + 4, 4);
        off += 8 + mlen;
    }
    memcpy(extra, &mq, sizeof mq);
    memcpy(extra + sizeof mq, buf, used);
    return 0;
}

/* ---- restart ---- */

/* The queue of a record (its extra from the struct ctx_mqueue on at extra): the named
 * one, or a new deleted one with the saved messages. */
int mqueue_make(struct child *c, const struct ctx_fd *f, const char *extra, size_t extra_len)
{
    const char *name = (const char *)(f + 1);
    int mode = (int)(f->open_flags & (O_ACCMODE | O_NONBLOCK));
    if (!(f->flags & CTX_FD_DELETED)) {
        int q = (int)syscall(SYS_mq_open, name + 1, mode | O_CLOEXEC, 0, NULL);
        if (q < 0)
            child_fail(c, errno, "cannot open the POSIX message queue %s again as fd %d%s: %s", name,
                       f->fd, errno == ENOENT ? " (it is gone: it lives until the machine stops)" : "",
                       strerror(errno));
        return q;
    }
    if (f->source_fd >= 0) /* another open of a queue an earlier fd has */
        return reopen_fd(c, f, mode);
    struct ctx_mqueue mq;
    memcpy(&mq, extra, sizeof mq);
    struct mq_attr at = { .mq_maxmsg = mq.maxmsg, .mq_msgsize = mq.msgsize };
    char unique[64];
    const char *use = name + 1;
    int q = (int)syscall(SYS_mq_open, use, O_RDWR | O_CREAT | O_EXCL | O_NONBLOCK | O_CLOEXEC, 0600, &at);
    if (q < 0 && errno == EEXIST) { /* its name is only seen in /proc: another will do */
        snprintf(unique, sizeof unique, "slurm-cr.%d.%d", (int)getpid(), f->fd);
        q = (int)syscall(SYS_mq_open, use = unique, O_RDWR | O_CREAT | O_EXCL | O_NONBLOCK | O_CLOEXEC,
                         0600, &at);
    }
    if (q < 0 || syscall(SYS_mq_unlink, use) < 0 || fchmod(q, f->id.mode & 07777) < 0)
        child_fail(c, errno, "cannot make the deleted POSIX message queue %s of fd %d again (%ld "
                   "messages of at most %ld bytes): %s", name, f->fd, (long)mq.maxmsg,
                   (long)mq.msgsize, strerror(errno));
    for (size_t off = sizeof mq; off < extra_len;) {
        uint32_t prio, len;
        memcpy(&prio, extra + off, 4);
        memcpy(&len, extra + off + 4, 4);
        if (syscall(SYS_mq_timedsend, q, extra + off + 8, (size_t)len, prio, NULL) < 0)
            child_fail(c, errno, "cannot put the messages of the POSIX message queue of fd %d back: %s",
                       f->fd, strerror(errno));
        off += 8 + len;
    }
    int obj = reopen_queue(q, mode & O_ACCMODE);
    if (obj < 0 || (!(mode & O_NONBLOCK) && fcntl(obj, F_SETFL, 0) < 0))
        child_fail(c, errno, "cannot open the POSIX message queue of fd %d again: %s", f->fd,
                   strerror(errno));
    close(q);
    return obj;
}

static int make_mqueue(struct child *c, const struct ctx_fd *f, uint32_t rec)
{
    (void)rec;
    return mqueue_make(c, f, (const char *)fd_rec_extra(f), f->extra_len);
}

/* Its attributes and, deleted, its messages, each within them; opened again, an earlier
 * record has it. */
int mqueue_valid(const struct ctx_fd *f, const char *extra, size_t extra_len,
                 const struct ctx_fd *const *earlier, uint32_t n)
{
    struct ctx_mqueue mq;
    if ((f->source_fd != -1 && !valid_reopen(f, earlier, n)) || extra_len < sizeof mq ||
        fd_rec_path(f)[0] != '/' || (f->flags & ~CTX_FD_DELETED))
        return 0;
    memcpy(&mq, extra, sizeof mq);
    if (mq.maxmsg <= 0 || mq.maxmsg > 65536 || mq.msgsize <= 0 || mq.msgsize > (16 << 20) || mq.pad ||
        mq.nmsgs > mq.maxmsg || ((!(f->flags & CTX_FD_DELETED) || f->source_fd != -1) && mq.nmsgs))
        return 0;
    size_t off = sizeof mq;
    for (uint32_t k = 0; k < mq.nmsgs; k++) {
        uint32_t prio, len;
        if (extra_len - off < 8)
            return 0;
        memcpy(&prio, extra + off, 4);
        memcpy(&len, extra + off + 4, 4);
        if (prio >= CTX_MQ_PRIO_MAX || len > mq.msgsize || extra_len - off - 8 < len)
            return 0;
        off += 8 + len;
    }
    return off == extra_len;
}

static int valid_mqueue(const struct ctx_fd *f, const struct ctx_fd *const *earlier, uint32_t n)
{
    return mqueue_valid(f, (const char *)fd_rec_extra(f), f->extra_len, earlier, n);
}

void mqueue_describe(const struct ctx_fd *f, const char *extra, FILE *out, const char *acc)
{
    struct ctx_mqueue mq; /* after the path: not aligned */
    memcpy(&mq, extra, sizeof mq);
    fd_line(out, f, ctx_fd_kind_name(f->kind), acc);
    fprintf(out, "  %s, at most %lld messages of %lld bytes", fd_rec_path(f), (long long)mq.maxmsg,
            (long long)mq.msgsize);
    if ((f->flags & CTX_FD_DELETED) && f->source_fd >= 0)
        fprintf(out, ", deleted: the queue of fd %d opened again\n", f->source_fd);
    else if (f->flags & CTX_FD_DELETED)
        fprintf(out, ", deleted: %u messages saved\n", mq.nmsgs);
    else
        fprintf(out, ", opened by name\n");
}

static void describe_mqueue(const struct ctx_fd *f, FILE *out, const char *acc)
{
    mqueue_describe(f, (const char *)fd_rec_extra(f), out, acc);
}

const struct cr_fd_ops cr_fd_mqueue = {
    .kind = CTX_FD_MQUEUE, .name = "mqueue", .detect = detect_mqueue, .save = save_mqueue,
    .make = make_mqueue, .pool = pool_deleted,
    .valid = valid_mqueue, .describe = describe_mqueue,
};
