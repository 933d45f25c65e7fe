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
 * The new step's server takes the first message of each task's link for the client's
 * PMI init (cmd=init pmi_version=V pmi_subversion=S, PMI-1 or PMI-2 alike, Slurm's
 * mpi/pmi2 agent) and fixes the step's protocol with it.  A client that had made its
 * init before the checkpoint does not make it again: its next request (the barrier of
 * its finalize) would be taken for a malformed init and refused.  So the runtime notes
 * the server's answer to the client's init as the client reads it (cr_pmi_saw_read,
 * from its read() and recv(): held_reads.c), the image says the version answered, and
 * cr_restart makes the same init with the new step's server, answered before the
 * program runs again.  The step's key-value space is not carried over: a client that
 * asks the server for a key after a restart (MPICH's UCX asks none once initialised)
 * gets the new step's (empty) space.
 *
 * A PMIx client's link (Open MPI) is pmix_link.c's; an image made before that kind
 * existed has it here with CTX_FD_PMI_PMIX, and it comes back reset. */
#define _GNU_SOURCE
#include "resources.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

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

/* ---- the runtime, while the program runs: the answer to its PMI init ---- */

int cr_pmi_watched_fd = -1;     /* PMI_FD, until the answer to the init is seen on it */
static uint32_t init_answered;  /* CTX_FD_PMI_INIT11 or _INIT20 once seen (in the image:
                                   a restarted client still has it, for the next one) */

/* The number N of KEY=N in the space-separated words of line[0, n), -1 if none */
static long word_value(const char *line, size_t n, const char *key)
{
    size_t kl = strlen(key);
    for (size_t i = 0; i + kl + 1 < n; i++) {
        if ((i && line[i - 1] != ' ') || memcmp(line + i, key, kl) || line[i + kl] != '=')
            continue;
        long v = 0;
        size_t j = i + kl + 1;
        if (j >= n || line[j] < '0' || line[j] > '9')
            return -1;
        for (; j < n && line[j] >= '0' && line[j] <= '9' && v < 1000; j++)
            v = v * 10 + (line[j] - '0');
        return j == n || line[j] == ' ' || line[j] == '\n' ? v : -1;
    }
    return -1;
}

/* Which init a PMI server's answer line[0, n) accepts: CTX_FD_PMI_INIT11/_INIT20, 0 if
 * it is no answer to an init, refuses it or names another version */
static uint32_t init_answer(const char *line, size_t n)
{
    static const char head[] = "cmd=response_to_init ";
    if (n < sizeof head - 1 || memcmp(line, head, sizeof head - 1))
        return 0;
    const char *nl = memchr(line, '\n', n);
    if (nl)
        n = (size_t)(nl - line);
    long v = word_value(line, n, "pmi_version"), sv = word_value(line, n, "pmi_subversion");
    if (word_value(line, n, "rc") != 0)
        return 0;
    return v == 1 && sv == 1 ? CTX_FD_PMI_INIT11 : v == 2 && sv == 0 ? CTX_FD_PMI_INIT20 : 0;
}

void cr_pmi_watch_start(void)
{
    cr_pmi_watched_fd = pmi_fd();
}

void cr_pmi_saw_read(int fd, const void *buf, ssize_t n)
{
    uint32_t seen;
    if (n <= 0 || fd != cr_pmi_watched_fd || !(seen = init_answer(buf, (size_t)n)))
        return;
    __atomic_store_n(&init_answered, seen, __ATOMIC_RELEASE);
    __atomic_store_n(&cr_pmi_watched_fd, -1, __ATOMIC_RELAXED); /* reads cost nothing more */
}

/* ---- dump ---- */

static int detect_pmi(const struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    (void)s;
    return d->step && S_ISSOCK(p->st.st_mode) && p->fd == pmi_fd();
}

static int save_pmi(struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    (void)s;
    /* a request or an answer half way cannot be cut at the same place in the new link */
    int unread = 0, unsent = 0;
    if ((ioctl(p->fd, SIOCINQ, &unread) == 0 && unread > 0) ||
        (ioctl(p->fd, SIOCOUTQ, &unsent) == 0 && unsent > 0))
        return fail(d, EAGAIN, "fd %d, the link to the step's PMI server, has a message in "
                    "flight (%d bytes unread, %d not read by the server): try the checkpoint "
                    "again", p->fd, unread, unsent);
    char text[100];
    snprintf(text, sizeof text, "the link to the step's PMI server (PMI_FD=%d)", p->fd);
    struct ctx_fd *r = sock_record(d, p->fd, CTX_FD_PMI, text, 0, &p->st);
    if (!r)
        return fail(d, E2BIG, "too much metadata");
    r->flags = __atomic_load_n(&init_answered, __ATOMIC_ACQUIRE);
    return 0;
}

/* ---- restart ---- */

#define INIT_WAIT_MS 30000 /* a server that does not answer fails the restart, bounded */

/* The client's init again, with the new step's server, at the version it was answered:
 * the same line the client sent, then the server's answer, read up to its newline only
 * (what follows is the program's). */
static void init_again(struct child *c, const struct ctx_fd *f, int fd)
{
    int v = f->flags & CTX_FD_PMI_INIT20 ? 2 : 1, sv = v == 2 ? 0 : 1;
    char msg[64], got[128];
    int len = snprintf(msg, sizeof msg, "cmd=init pmi_version=%d pmi_subversion=%d\n", v, sv);
    for (int done = 0; done < len;) {
        ssize_t w = send(fd, msg + done, (size_t)(len - done), MSG_NOSIGNAL);
        if (w < 0 && errno != EINTR && errno != EAGAIN)
            child_fail(c, errno, "fd %d, the task's link to the new step's PMI server: cannot "
                       "send it the client's PMI %d.%d init: %s", f->fd, v, sv, strerror(errno));
        if (w < 0 && errno == EAGAIN &&
            poll(&(struct pollfd){ .fd = fd, .events = POLLOUT }, 1, INIT_WAIT_MS) == 0)
            child_fail(c, ETIMEDOUT, "fd %d, the task's link to the new step's PMI server: the "
                       "client's PMI %d.%d init could not be sent within %d s", f->fd, v, sv,
                       INIT_WAIT_MS / 1000);
        done += w > 0 ? (int)w : 0;
    }
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    size_t have = 0;
    while (have < sizeof got - 1 && (!have || got[have - 1] != '\n')) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        long left = INIT_WAIT_MS - ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000);
        struct pollfd pf = { .fd = fd, .events = POLLIN };
        int p = left > 0 ? poll(&pf, 1, (int)left) : 0;
        if (p < 0 && errno == EINTR)
            continue;
        if (p <= 0)
            child_fail(c, p ? errno : ETIMEDOUT, "fd %d, the task's link to the new step's PMI "
                       "server: no answer to the client's PMI %d.%d init within %d s", f->fd, v,
                       sv, INIT_WAIT_MS / 1000);
        ssize_t r = recv(fd, got + have, 1, MSG_DONTWAIT);
        if (r == 0)
            child_fail(c, ECONNRESET, "fd %d, the task's link to the new step's PMI server: "
                       "closed by the server at the client's PMI %d.%d init", f->fd, v, sv);
        if (r < 0 && errno != EINTR && errno != EAGAIN)
            child_fail(c, errno, "fd %d, the task's link to the new step's PMI server: %s",
                       f->fd, strerror(errno));
        have += r > 0 ? (size_t)r : 0;
    }
    got[have] = 0;
    if (init_answer(got, have) != (f->flags & (CTX_FD_PMI_INIT11 | CTX_FD_PMI_INIT20)))
        child_fail(c, EPROTO, "fd %d: the new step's PMI server did not accept the client's "
                   "PMI %d.%d init as the old step's did; it answered \"%.*s\"", f->fd, v, sv,
                   (int)strcspn(got, "\n"), got);
}

/* c->step_pmi: cr_restart's PMI_FD, kept out of the way of the image's fds (restart.c) */
static int restore_pmi(struct child *c, const struct ctx_fd *f, uint32_t rec, int *own)
{
    if (c->step_pmi < 0 || (f->flags & CTX_FD_PMI_PMIX)) /* no new step around it, or an old
                                                           image's PMIx link */
        return cr_fd_kind(CTX_FD_SOCKET_DEAD)->restore(c, f, rec, own);
    int fd = c->step_pmi;
    c->step_pmi = -1; /* one link: a second record of it would be a dup */
    if (f->flags & (CTX_FD_PMI_INIT11 | CTX_FD_PMI_INIT20))
        init_again(c, f, fd);
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
    /* one of: an old image's PMIx link, a link before the init, or after it at 1.1 or 2.0 */
    return (f->flags == 0 || f->flags == CTX_FD_PMI_PMIX || f->flags == CTX_FD_PMI_INIT11 ||
            f->flags == CTX_FD_PMI_INIT20) && valid_no_extra(f, earlier, n);
}

static void describe_pmi(const struct ctx_fd *f, FILE *out, const char *acc)
{
    fd_line(out, f, "pmi", acc);
    fprintf(out, " %s%s\n", fd_rec_path(f),
            f->flags & CTX_FD_PMI_INIT11   ? ", PMI 1.1 initialised (made again with a new step's server)"
            : f->flags & CTX_FD_PMI_INIT20 ? ", PMI 2.0 initialised (made again with a new step's server)"
            : f->flags & CTX_FD_PMI_PMIX   ? ", a PMIx server's (restored reset)"
                                           : ", PMI not initialised");
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
    .valid = valid_pmi, .describe = describe_pmi, .outside = outside_pmi,
};
