/* The owner of an open file's signals (F_SETOWN_EX: a thread, process or process group
 * that gets SIGIO or SIGURG) and the signal it gets (F_SETSIG), saved after the fd's
 * record (CTX_REC_FD_OWNER) and set again once every fd is placed.  The process itself,
 * its main thread or its group are the restarted ones; another of its threads is
 * refused (a restarted thread has another number, and exists only once the restorer
 * made it). */
#define _GNU_SOURCE
#include "resources.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "context_reader.h"

_Static_assert((int)F_OWNER_TID == CTX_OWNER_TID && (int)F_OWNER_PID == CTX_OWNER_PID &&
               (int)F_OWNER_PGRP == CTX_OWNER_PGRP, "F_OWNER_*");

/* ---- dump ---- */

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
    if (ex.type == F_OWNER_TID && ex.pid != getpid())
        return fail(d, ENOTSUP, "fd %d sends its signals to thread %d (F_SETOWN_EX), which has "
                    "another number after a restart: make the process its owner (F_SETOWN)",
                    p->fd, ex.pid);
    struct ctx_fd_owner *r = rec_add(d, CTX_REC_FD_OWNER, sizeof *r);
    if (!r)
        return fail(d, E2BIG, "too much metadata");
    *r = (struct ctx_fd_owner){ .fd = p->fd, .type = (uint32_t)ex.type, .pid = ex.pid,
                                .sig = (uint32_t)sig };
    return 0;
}

/* ---- restart ---- */

void restore_owners(struct child *c)
{
    const struct ctx_proc *proc = c->img->proc;
    for (uint32_t i = 0; i < c->img->nowners; i++) {
        const struct ctx_fd_owner *o = c->img->owners[i];
        struct f_owner_ex ex = { .type = (enum __pid_type)o->type, .pid = o->pid };
        if (o->type == CTX_OWNER_PGRP ? o->pid == proc->pgid : o->pid == proc->pid)
            ex.pid = o->type == CTX_OWNER_PGRP ? getpgrp() : getpid(); /* ours: the new one */
        if (o->pid && fcntl(o->fd, F_SETOWN_EX, &ex) < 0)
            child_fail(c, errno, "cannot make %s %d the owner of fd %d's signals again (F_SETOWN_EX): %s",
                       o->type == CTX_OWNER_PGRP ? "process group" : "process", ex.pid, o->fd,
                       strerror(errno));
        if (o->sig && fcntl(o->fd, F_SETSIG, (int)o->sig) < 0)
            child_fail(c, errno, "cannot set the signal of fd %d (F_SETSIG %u): %s", o->fd, o->sig,
                       strerror(errno));
    }
}
