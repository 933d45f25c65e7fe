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
 * A PMIx client's connection to its step's server (Open MPI, srun --mpi=pmix: a TCP
 * connection to the address in PMIX_SERVER_URI*) is the step's too, not another
 * task's: saved as such (CTX_FD_PMI_PMIX), it comes back reset, since a new
 * connection would need the PMIx handshake the client made at its start. */
#define _GNU_SOURCE
#include "resources.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
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

extern char **environ;

/* The PMIx server URI (PMIX_SERVER_URI*=NAME;tcp4://IP:PORT) that fd's peer is, or NULL */
static const char *pmix_server(int fd)
{
    struct sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    char ip[INET6_ADDRSTRLEN], want[INET6_ADDRSTRLEN + 16];
    if (getpeername(fd, (struct sockaddr *)&peer, &plen) < 0 ||
        (peer.ss_family != AF_INET && peer.ss_family != AF_INET6))
        return NULL;
    if (peer.ss_family == AF_INET) {
        const struct sockaddr_in *in = (const void *)&peer;
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
        snprintf(want, sizeof want, "://%s:%u", ip, ntohs(in->sin_port));
    } else {
        const struct sockaddr_in6 *in6 = (const void *)&peer;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
        snprintf(want, sizeof want, "://[%s]:%u", ip, ntohs(in6->sin6_port));
    }
    size_t wl = strlen(want);
    for (char **e = environ; e && *e; e++) {
        const char *at;
        if (strncmp(*e, "PMIX_SERVER_URI", 15) || !(at = strstr(*e, want)) ||
            (at[wl] != 0 && at[wl] != ';' && at[wl] != ','))
            continue;
        return *e;
    }
    return NULL;
}

static int detect_pmi(const struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    (void)s;
    return d->step && S_ISSOCK(p->st.st_mode) && (p->fd == pmi_fd() || pmix_server(p->fd));
}

static int save_pmi(struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    (void)s;
    char text[300];
    const char *uri = p->fd == pmi_fd() ? NULL : pmix_server(p->fd);
    if (uri)
        snprintf(text, sizeof text, "the link to the step's PMIx server (%.200s)", uri);
    else
        snprintf(text, sizeof text, "the link to the step's PMI server (PMI_FD=%d)", p->fd);
    struct ctx_fd *r = sock_record(d, p->fd, CTX_FD_PMI, text, 0, &p->st);
    if (!r)
        return fail(d, E2BIG, "too much metadata");
    r->flags = uri ? CTX_FD_PMI_PMIX : 0;
    return 0;
}

/* ---- restart ---- */

/* c->step_pmi: cr_restart's PMI_FD, kept out of the way of the image's fds (restart.c) */
static int restore_pmi(struct child *c, const struct ctx_fd *f, uint32_t rec, int *own)
{
    if (c->step_pmi < 0 || (f->flags & CTX_FD_PMI_PMIX)) /* no new step around it, or PMIx */
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
