/* A task's link to its Slurm step's PMI server (CTX_FD_PMI): the socket Slurm's PMI-2
 * plugin hands each task as PMI_FD (MPICH's way to Slurm, srun --mpi=pmi2).  It leads
 * to the old step's slurmstepd, which is gone at restart; the new step hands the new
 * task (cr_restart) a link of its own, also as PMI_FD.  So the link is saved as the
 * step's (with CR_CTL_STEP) and, at restart, the new step's PMI_FD takes the old fd
 * number: what the program asks of PMI afterwards (its finalize, a lookup) goes to
 * the server of the step it now runs in.  The program's PMI_FD variable stays the old
 * number, which is now that link.  Without a PMI_FD in cr_restart's environment (one
 * task restarted alone) it comes back reset, as a connection to the outside.
 *
 * A PMIx client's link (Open MPI) is pmix_link.c's; an image made before that kind
 * existed has it here with CTX_FD_PMI_PMIX, and it comes back reset. */
#define _GNU_SOURCE
#include "resources.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- dump ---- */

/* PMI_FD's value in the process's environment, -1 if none (at restart: restart.c) */
static int pmi_fd(void)
{
    const char *v = getenv("PMI_FD"); /* getenv takes no lock and allocates nothing */
    if (!v || *v < '0' || *v > '9')
        return -1;
    char *end;
    long n = strtol(v, &end, 10);
    return *end || n > 1 << 20 ? -1 : (int)n;
}

static int detect_pmi(const struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    (void)s;
    return d->step && S_ISSOCK(p->st.st_mode) && p->fd == pmi_fd();
}

static int save_pmi(struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    (void)s;
    char text[100];
    snprintf(text, sizeof text, "the link to the step's PMI server (PMI_FD=%d)", p->fd);
    struct ctx_fd *r = sock_record(d, p->fd, CTX_FD_PMI, text, 0, &p->st);
    return r ? 0 : fail(d, E2BIG, "too much metadata");
}

/* ---- restart ---- */

/* c->step_pmi: cr_restart's PMI_FD, kept out of the way of the image's fds (restart.c) */
static int restore_pmi(struct child *c, const struct ctx_fd *f, uint32_t rec, int *own)
{
    if (c->step_pmi < 0 || (f->flags & CTX_FD_PMI_PMIX)) /* no new step around it, or an old
                                                           image's PMIx link */
        return cr_fd_kind(CTX_FD_SOCKET_DEAD)->restore(c, f, rec, own);
    int fd = c->step_pmi;
    c->step_pmi = -1; /* one link: a second record of it would be a dup */
    return fd;
}

static void finish_pmi(struct child *c)
{
    if (c->step_pmi >= 0)
        close(c->step_pmi);
    c->step_pmi = -1;
}

/* ---- the reader and cr_info ---- */

static int valid_pmi(const struct ctx_fd *f, const struct ctx_fd *const *earlier, uint32_t n)
{
    return !(f->flags & ~(uint32_t)CTX_FD_PMI_PMIX) && valid_no_extra(f, earlier, n);
}

static const char *outside_pmi(const struct ctx_fd *f)
{
    (void)f;
    return "a reset connection, unless cr_restart runs as a task of a new step "
           "(its PMI_FD then takes the number)";
}

const struct cr_fd_ops cr_fd_pmi = {
    .kind = CTX_FD_PMI, .name = "pmi", .detect = detect_pmi, .save = save_pmi,
    .restore = restore_pmi, .finish = finish_pmi,
    .valid = valid_pmi, .describe = describe_path, .outside = outside_pmi,
};
