/* Coordinated checkpoints of a step's local tasks: see coordinated.h. */
#define _GNU_SOURCE
#include "coordinated.h"
#include "events.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "request_client.h"
#include "step_conns.h"
#include "tree_request.h"



static long ms_left(const struct timespec *end)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long ms = (end->tv_sec - now.tv_sec) * 1000 + (end->tv_nsec - now.tv_nsec) / 1000000;
    return ms > 0 ? ms : 0;
}

/* One line from stdin within wait_s seconds: 1 "write", 0 anything else */
static int stdin_word(unsigned wait_s)
{
    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += wait_s;
    char buf[64];
    size_t have = 0;
    for (;;) {
        struct pollfd pf = { 0, POLLIN, 0 };
        long ms = ms_left(&end);
        if (!ms)
            return 0;
        int r = poll(&pf, 1, (int)ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return 0;
        /* a byte at a time: what follows the line (a later "abort") is the
         * connection barrier's to read */
        ssize_t got = read(0, buf + have, 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return 0;
        have += (size_t)got;
        buf[have] = 0;
        char *nl = strchr(buf, '\n');
        if (nl) {
            *nl = 0;
            return !strcmp(buf, "write");
        }
        if (have == sizeof buf - 1)
            return 0;
    }
}

void cr_coord_fault_point(const char *point, const char *node)
{
    const char *at = getenv("CR_AGENT_STOP_AT");
    size_t n = strlen(point);
    if (at && node && !strncmp(at, point, n) && at[n] == ':' && !strcmp(at + n + 1, node))
        raise(SIGSTOP);
}

int cr_coord_stdin_verdict(int ok, void *arg)
{
    const struct coord_stdin *c = arg;
    /* (the failures are reported with the results, after the verdict) */
    printf("%s %s\n", ok ? "frozen" : "abort", c->node);
    fflush(stdout);
    return stdin_word(c->wait_s) && ok;
}

static int mark(const char *dir, const char *what, unsigned nodeid)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/%s.%u", dir, what, nodeid);
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0)
        close(fd);
    return fd >= 0 ? 0 : -1;
}

int cr_coord_files_verdict(int ok, void *arg)
{
    const struct coord_files *c = arg;
    if (!ok || mark(c->tmpdir, "frozen", c->nodeid) < 0) {
        mark(c->tmpdir, "abort", c->nodeid);
        return 0;
    }
    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += c->wait_ms / 1000;
    end.tv_nsec += (long)(c->wait_ms % 1000) * 1000000L;
    if (end.tv_nsec >= 1000000000L) {
        end.tv_sec++;
        end.tv_nsec -= 1000000000L;
    }
    char path[4400];
    for (;;) {
        unsigned k, frozen = 0;
        for (k = 0; k < c->nnodes; k++) {
            snprintf(path, sizeof path, "%s/abort.%u", c->tmpdir, k);
            if (access(path, F_OK) == 0)
                return 0;
            snprintf(path, sizeof path, "%s/frozen.%u", c->tmpdir, k);
            frozen += access(path, F_OK) == 0;
        }
        if (frozen == c->nnodes)
            return 1;
        if (!ms_left(&end)) {
            mark(c->tmpdir, "abort", c->nodeid); /* the others need not wait longer */
            return 0;
        }
        struct timespec ts = { 0, 10 * 1000000L };
        nanosleep(&ts, NULL);
    }
}

/* One task with its descendants found and frozen (*started once there is something
 * for crtree_close to let go); 0 or -errno with tr->msg. */
static int freeze_task(struct crtree *tr, pid_t pid, int fd, unsigned maxwait_s, unsigned flags,
                       const struct crtree_ptrace *by_ptrace, int *started)
{
    int rc = crtree_find(tr, pid, CTX_SCOPE_TREE, fd, maxwait_s * 1000, flags);
    if (rc < 0)
        return rc;
    /* a task without the runtime (backend=kmod): held through ptrace, written
     * uncompressed (the ptrace dumper has no compressing writer) */
    struct sockaddr_un runtime_addr;
    if (by_ptrace && cr_ctl_find_address(pid, &runtime_addr, 0) < 0) {
        tr->ptrace = by_ptrace;
        tr->flags &= ~(unsigned)CR_CTL_COMPRESS_MASK;
    }
    *started = 1;
    return crtree_freeze(tr);
}

int cr_coordinated(struct coord_task *t, int n, int stop, unsigned maxwait_s, coord_verdict verdict,
                   void *arg, const struct step_meet *meet, const struct crtree_ptrace *by_ptrace)
{
    /* each task with its descendants: the engine's tree capture (one process alone
     * gives an ordinary one-process file) */
    struct crtree *tr = calloc((size_t)n, sizeof *tr);
    int *fds = calloc((size_t)n, sizeof *fds), *started = calloc((size_t)n, sizeof *started);
    int first = 0;
    if (!tr || !fds || !started) {
        free(tr), free(fds), free(started);
        for (int i = 0; i < n; i++) {
            t[i].status = ENOMEM;
            snprintf(t[i].err, sizeof t[i].err, "%s", strerror(ENOMEM));
        }
        verdict(0, arg);
        return ENOMEM;
    }
    for (int i = 0; i < n; i++)
        fds[i] = -1;
    /* 1: every local task frozen; none runs on until the requester says so */
    /* the step's tasks, all frozen together: a connection from one to another is saved
     * at both ends, to be made again between the restarted tasks (CTX_FD_STEP_CONN) */
    unsigned flags = (stop ? 0 : CR_CTL_CONTINUE) | CR_CTL_STEP, zflags = 0;
    /* compress= in plugstack.conf (or the job's CR_COMPRESS); a bad value was refused
     * when the step started, and compresses nothing here */
    if (cr_compress_flags(getenv("CR_COMPRESS"), &zflags) == 0 && getenv("CR_COMPRESS"))
        flags |= zflags;
    /* A task being checkpointed for another requester (a periodic generation begun
     * before this request marked the step busy, after which none begins) is waited
     * for, up to meet->busy_wait_s: every task this request holds is let go first
     * (two requesters never wait for each other), and all are tried again. */
    struct timespec busy_end;
    clock_gettime(CLOCK_MONOTONIC, &busy_end);
    busy_end.tv_sec += meet ? meet->busy_wait_s : 0;
    int waited = 0;
    for (int i = 0; i < n; i++) {
        if (fds[i] < 0)
            fds[i] = open(t[i].dest, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        int rc = fds[i] < 0 ? -errno : freeze_task(&tr[i], t[i].pid, fds[i], maxwait_s, flags, by_ptrace,
                                                   &started[i]);
        int failed_before = 0; /* (then this checkpoint fails whatever the wait) */
        for (int k = 0; k < i; k++)
            failed_before |= t[k].status != 0;
        if (rc == -EBUSY && !failed_before && ms_left(&busy_end) > 0) {
            if (!waited++)
                cr_event("CHKPT_WAIT", meet->gen, (int)t[i].rank, EBUSY, tr[i].msg, 0, NULL);
            for (int k = 0; k <= i; k++)
                if (started[k]) {
                    crtree_close(&tr[k]);
                    started[k] = 0;
                }
            struct timespec ts = { 0, 100 * 1000000L };
            nanosleep(&ts, NULL);
            i = -1; /* all again */
            continue;
        }
        if (rc < 0) {
            t[i].status = -rc;
            if (fds[i] < 0)
                snprintf(t[i].err, sizeof t[i].err, "cannot create %s: %s", t[i].dest, strerror(-rc));
            else
                snprintf(t[i].err, sizeof t[i].err, "%.790s", tr[i].msg);
        }
    }
    for (int i = 0; i < n && !first; i++)
        first = t[i].status;
    /* 2: every node frozen (the requester's word, or the other nodes' marks), or not */
    int go = verdict(!first, arg);
    if (!first && !go) {
        first = ECANCELED;
        for (int i = 0; i < n; i++) {
            t[i].status = ECANCELED;
            snprintf(t[i].err, sizeof t[i].err, "the checkpoint was called off (another node failed, "
                     "or did not answer in time)");
        }
    }
    /* 2b: every node frozen, so that nothing is sent any more: every TCP connection of
     * a task leads to another task of the step (matched in every node's list), its
     * bytes in flight taken by the receiver, or the checkpoint fails here, as a write
     * would (the requester hears of it with the results).  Before the verdict, a node
     * would wait for the lists of nodes that cannot freeze, and not say it is frozen. */
    if (meet && !first)
        first = cr_step_conns_check(t, n, tr, 1, meet);
    /* 3: each writes its image (its tree's) and goes on (or stops) */
    if (!first && meet)
        cr_coord_fault_point("write", meet->node);
    for (int i = 0; i < n && !first; i++) {
        if (crtree_write(&tr[i]) < 0) {
            first = t[i].status = tr[i].err ? tr[i].err : EIO;
            snprintf(t[i].err, sizeof t[i].err, "%.790s", tr[i].msg);
        } else {
            t[i].bytes = tr[i].bytes;
        }
    }
    for (int i = 0; i < n && !first; i++)
        if (fsync(fds[i]) < 0) {
            first = t[i].status = errno;
            snprintf(t[i].err, sizeof t[i].err, "cannot sync %s: %s", t[i].dest, strerror(errno));
        }
    /* the files are in place: commit; on failure, closing resumes the processes unharmed */
    for (int i = 0; i < n; i++) {
        if (started[i]) {
            if (!first)
                crtree_commit(&tr[i], stop ? SIGSTOP : 0);
            crtree_close(&tr[i]);
        }
        if (fds[i] >= 0)
            close(fds[i]);
        if (first)
            unlink(t[i].dest);
        if (first && !t[i].status) {
            t[i].status = ECANCELED;
            snprintf(t[i].err, sizeof t[i].err, "called off: another task failed");
        }
    }
    free(tr), free(fds), free(started);
    return first;
}
