/* Coordinated checkpoints of a step's local tasks: see coordinated.h. */
#define _GNU_SOURCE
#include "coordinated.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "request_client.h"

#define MAX_FDS_SEEN 4096

/* What a process cannot see from inside, as a one-process tree: its stdio, the pipes
 * whose both ends it has, its sockets. */
static void fill_prepare(pid_t pid, struct cr_ctl_prepare *p)
{
    memset(p, 0, sizeof *p);
    p->magic = CR_CTL_MAGIC;
    p->op = CR_CMD_PREPARE;
    p->index = 0;
    char path[320], link[128];
    for (int i = 0; i < 3; i++) {
        struct stat st;
        snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)pid, i);
        if (stat(path, &st) == 0) {
            p->stdio[i].dev = st.st_dev;
            p->stdio[i].ino = st.st_ino;
            p->stdio[i].rdev = st.st_rdev;
            p->stdio[i].valid = 1;
        }
    }
    static struct { unsigned long ino; int ends; } pipes[MAX_FDS_SEEN];
    int np = 0;
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "/proc/%d/fd/%s", (int)pid, e->d_name);
        ssize_t n = readlink(path, link, sizeof link - 1);
        if (n <= 0)
            continue;
        link[n] = 0;
        unsigned long ino;
        if (sscanf(link, "socket:[%lu]", &ino) == 1) {
            if (p->nsocks < CR_CTL_MAX_TREE_SOCKS)
                p->socks[p->nsocks++] = ino;
        } else if (sscanf(link, "pipe:[%lu]", &ino) == 1) {
            char info[320], line[128];
            unsigned flags = 0;
            snprintf(info, sizeof info, "/proc/%d/fdinfo/%s", (int)pid, e->d_name);
            FILE *f = fopen(info, "re");
            while (f && fgets(line, sizeof line, f))
                sscanf(line, "flags: %o", &flags);
            if (f)
                fclose(f);
            int end = (flags & O_ACCMODE) == O_RDONLY ? 1 : 2, k;
            for (k = 0; k < np && pipes[k].ino != ino; k++)
                ;
            if (k == np && np < MAX_FDS_SEEN)
                pipes[np++] = (typeof(pipes[0])){ ino, 0 };
            if (k < np)
                pipes[k].ends |= end;
        }
    }
    if (d)
        closedir(d);
    for (int k = 0; k < np; k++)
        if (pipes[k].ends == 3 && p->npipes < CR_CTL_MAX_TREE_PIPES)
            p->pipes[p->npipes++] = pipes[k].ino;
}

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
        ssize_t got = read(0, buf + have, sizeof buf - 1 - have);
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

int cr_coordinated(struct coord_task *t, int n, int stop, unsigned maxwait_s, coord_verdict verdict,
                   void *arg)
{
    struct crq *q = calloc((size_t)n, sizeof *q);
    int *fds = calloc((size_t)n, sizeof *fds), *started = calloc((size_t)n, sizeof *started);
    int first = 0;
    if (!q || !fds || !started) {
        free(q), free(fds), free(started);
        for (int i = 0; i < n; i++) {
            t[i].status = ENOMEM;
            snprintf(t[i].err, sizeof t[i].err, "%s", strerror(ENOMEM));
        }
        verdict(0, arg);
        return ENOMEM;
    }
    /* 1: every local task frozen; none runs on until the requester says so */
    unsigned flags = CR_CTL_TREE | (stop ? 0 : CR_CTL_CONTINUE);
    for (int i = 0; i < n; i++) {
        fds[i] = open(t[i].dest, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fds[i] < 0) {
            t[i].status = errno;
            snprintf(t[i].err, sizeof t[i].err, "cannot create %s: %s", t[i].dest, strerror(errno));
        } else if (crq_start(&q[i], t[i].pid, fds[i], maxwait_s * 1000, flags) < 0) {
            t[i].status = q[i].err ? q[i].err : EIO;
            snprintf(t[i].err, sizeof t[i].err, "%s", q[i].msg);
        } else {
            started[i] = 1;
        }
    }
    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += maxwait_s + 5;
    for (int i = 0; i < n; i++) {
        if (!started[i])
            continue;
        crq_wait_phase(&q[i], CR_CTL_FROZEN, (int)ms_left(&end));
        if (!q[i].frozen || q[i].err) {
            t[i].status = q[i].err ? q[i].err : ETIMEDOUT;
            snprintf(t[i].err, sizeof t[i].err, "%s", q[i].msg[0] ? q[i].msg :
                     "did not stop within MaxWait (errno 110, ETIMEDOUT)");
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
    /* 3: each writes its image and goes on (or stops) */
    for (int i = 0; i < n && !first; i++) {
        static struct cr_ctl_prepare prep;
        fill_prepare(t[i].pid, &prep);
        if (crq_prepare(&q[i], &prep) < 0 || (crq_wait_phase(&q[i], CR_CTL_PREPARED, -1), !q[i].prepared) ||
            q[i].err || (q[i].snapshot && crq_send(&q[i], CR_CMD_RELEASE, 0) < 0)) {
            first = t[i].status = q[i].err ? q[i].err : EIO;
            snprintf(t[i].err, sizeof t[i].err, "%s", q[i].msg[0] ? q[i].msg : "lost during the checkpoint");
        }
    }
    for (int i = 0; i < n && !first; i++) {
        if (lseek(fds[i], 0, SEEK_SET) < 0 || crq_send(&q[i], CR_CMD_WRITE, 0) < 0 ||
            (crq_wait(&q[i], -1), q[i].err)) {
            first = t[i].status = q[i].err ? q[i].err : errno ? errno : EIO;
            snprintf(t[i].err, sizeof t[i].err, "%s", q[i].msg[0] ? q[i].msg : strerror(t[i].status));
        } else {
            t[i].bytes = q[i].bytes;
        }
    }
    for (int i = 0; i < n && !first; i++)
        if (fsync(fds[i]) < 0) {
            first = t[i].status = errno;
            snprintf(t[i].err, sizeof t[i].err, "cannot sync %s: %s", t[i].dest, strerror(errno));
        }
    /* the files are in place: commit (a process whose snapshot child wrote its image
     * already runs); on failure, closing resumes the processes unharmed */
    for (int i = 0; i < n; i++) {
        if (started[i]) {
            if (!first && !q[i].snapshot)
                crq_commit(&q[i], stop ? SIGSTOP : 0);
            crq_close(&q[i]);
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
    free(q), free(fds), free(started);
    return first;
}
