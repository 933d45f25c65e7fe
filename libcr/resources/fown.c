/* The owner of an open file's signals (F_SETOWN_EX: a thread, process or process group
 * that gets SIGIO or SIGURG) and the signal it gets (F_SETSIG), saved after the fd's
 * record (CTX_REC_FD_OWNER) and set again once every fd is placed.  The process itself,
 * its main thread or its group are the restarted ones; another of its threads exists
 * only once the restorer made it, with another number: the restorer sets that owner.
 * A thread of another process is refused.  A directory with an owner may be watched
 * with dnotify (F_NOTIFY makes the process its owner), which Linux cannot read back:
 * saved (CTX_REC_DNOTIFY) and registered again first when the runtime saw the program
 * register it with DN_MULTISHOT (../dnotify_track.c), else refused. */
#define _GNU_SOURCE
#include "resources.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "context_reader.h"
#include "restore_plan.h"

_Static_assert((int)F_OWNER_TID == CTX_OWNER_TID && (int)F_OWNER_PID == CTX_OWNER_PID &&
               (int)F_OWNER_PGRP == CTX_OWNER_PGRP, "F_OWNER_*");

/* ---- dump ---- */

/* Whether tid is one of the threads saved already (they come before the fds). */
static int is_our_thread(const struct dump *d, pid_t tid)
{
    for (size_t off = 0; off < d->recs_len;) {
        const struct ctx_rec *r = (const void *)(d->scratch + RECS_OFF + off);
        if (r->type == CTX_REC_THREAD && ((const struct ctx_thread *)(r + 1))->tid == tid)
            return 1;
        off += sizeof *r + r->length;
    }
    return 0;
}

int save_owner(struct dump *d, const struct cr_fd_probe *p, uint32_t saved_as)
{
    if (saved_as == CTX_FD_DUP || saved_as == CTX_FD_SHARED || saved_as == CTX_FD_INHERIT ||
        (fcntl(p->fd, F_GETFL) & O_PATH))
        return 0; /* the open file's: saved with its first fd (stdio: cr_restart's own; an
                     O_PATH fd has none) */
    struct f_owner_ex ex;
    int sig = fcntl(p->fd, F_GETSIG);
    if (fcntl(p->fd, F_GETOWN_EX, &ex) < 0 || sig < 0)
        return fail(d, errno, "reading the signal owner of fd %d (F_GETOWN_EX, F_GETSIG)", p->fd);
    if (ex.pid == 0 && sig == 0)
        return 0;
    /* fcntl(F_NOTIFY) makes the process a directory's owner (its dnotify signals go
     * there); the registration itself cannot be read back: refused while the owner is
     * set (without one, dnotify signals nobody and losing it changes nothing) */
    uint32_t dmask = 0;
    int seen = S_ISDIR(p->st.st_mode) && ex.pid != 0 && d->dnotify_of &&
               d->dnotify_of(p->fd, (uint64_t)p->st.st_dev, (uint64_t)p->st.st_ino, &dmask) == 0;
    if (S_ISDIR(p->st.st_mode) && ex.pid != 0 && (!seen || !(dmask & DN_MULTISHOT)))
        return fail(d, ENOTSUP, "fd %d (%s) is a directory whose signals go to %s %d: %s, which "
                    "Linux gives no way to read back, so a restart would lose it; watch it with "
                    "inotify instead, register it with DN_MULTISHOT, or clear its owner (fcntl "
                    "F_SETOWN 0) if it is not watched", p->fd, p->path,
                    ex.type == F_OWNER_PGRP ? "process group" : ex.type == F_OWNER_TID ? "thread"
                                                                                  : "process",
                    ex.pid, seen ? "it is watched with dnotify without DN_MULTISHOT (fcntl "
                    "F_NOTIFY), a registration that may have fired and ended already"
                    : "it may be watched with dnotify (fcntl F_NOTIFY sets that owner) through "
                    "a call the runtime did not see");
    if (ex.type == F_OWNER_TID && ex.pid != getpid() && !is_our_thread(d, ex.pid))
        return fail(d, ENOTSUP, "fd %d sends its signals to thread %d (F_SETOWN_EX) of another "
                    "process, which a restart does not bring back: make the process its owner "
                    "(F_SETOWN)", p->fd, ex.pid);
    struct ctx_fd_owner *r = rec_add(d, CTX_REC_FD_OWNER, sizeof *r);
    if (!r)
        return fail(d, E2BIG, "too much metadata");
    *r = (struct ctx_fd_owner){ .fd = p->fd, .type = (uint32_t)ex.type, .pid = ex.pid,
                                .sig = (uint32_t)sig };
    if (seen) {
        struct ctx_dnotify *dn = rec_add(d, CTX_REC_DNOTIFY, sizeof *dn);
        if (!dn)
            return fail(d, E2BIG, "too much metadata");
        *dn = (struct ctx_dnotify){ .fd = p->fd, .mask = dmask };
    }
    return 0;
}

/* ---- restart ---- */

/* The thread other than the first whose tid owns the signals of o's fd: its index, 0
 * when it is the first (or o names no thread), -1 when the image has no such thread. */
static int owner_thread(const struct ctx_image *img, const struct ctx_fd_owner *o)
{
    if (o->type != CTX_OWNER_TID || o->pid == img->proc->pid)
        return 0;
    for (uint32_t t = 1; t < img->proc->nthreads; t++)
        if (img->threads[t]->tid == o->pid)
            return (int)t;
    return -1;
}

uint32_t thread_owner_plan(const struct ctx_image *img, struct rp_owner *out)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < img->nowners; i++) {
        int t = owner_thread(img, img->owners[i]);
        if (t > 0 && out)
            out[n] = (struct rp_owner){ .fd = img->owners[i]->fd, .thread = (uint32_t)t };
        n += t > 0;
    }
    return n;
}

void restore_owners(struct child *c)
{
    const struct ctx_proc *proc = c->img->proc;
    /* first: a registration makes the process the owner, which the saved one replaces */
    for (uint32_t i = 0; i < c->img->ndnotifies; i++) {
        const struct ctx_dnotify *dn = c->img->dnotifies[i];
        if (fcntl(dn->fd, F_NOTIFY, (int)dn->mask) < 0)
            child_fail(c, errno, "cannot watch the directory of fd %d with dnotify again "
                       "(F_NOTIFY 0x%x): %s", dn->fd, dn->mask, strerror(errno));
    }
    for (uint32_t i = 0; i < c->img->nowners; i++) {
        const struct ctx_fd_owner *o = c->img->owners[i];
        int t = owner_thread(c->img, o);
        if (t < 0)
            child_fail(c, EINVAL, "fd %d sends its signals to thread %d, which the image does not have",
                       o->fd, o->pid);
        struct f_owner_ex ex = { .type = (enum __pid_type)o->type, .pid = o->pid };
        if (o->type == CTX_OWNER_PGRP ? o->pid == proc->pgid : o->pid == proc->pid)
            ex.pid = o->type == CTX_OWNER_PGRP ? getpgrp() : getpid(); /* ours: the new one */
        else if (o->type != CTX_OWNER_TID)
            ex.pid = cr_child_pid_now(c, o->pid); /* another of the tree: its pid now */
        if (o->pid && t == 0 && fcntl(o->fd, F_SETOWN_EX, &ex) < 0) /* t > 0: the restorer's */
            child_fail(c, errno, "cannot make %s %d the owner of fd %d's signals again (F_SETOWN_EX): %s",
                       o->type == CTX_OWNER_PGRP ? "process group" : "process", ex.pid, o->fd,
                       strerror(errno));
        if (o->sig && fcntl(o->fd, F_SETSIG, (int)o->sig) < 0)
            child_fail(c, errno, "cannot set the signal of fd %d (F_SETSIG %u): %s", o->fd, o->sig,
                       strerror(errno));
    }
}
