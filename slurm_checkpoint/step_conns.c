/* Matching the step's TCP connections across nodes: see step_conns.h. */
#define _GNU_SOURCE
#include "step_conns.h"
#include "step_shm.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct conn {
    int task, fd;
    unsigned long long ino;
    unsigned long txq;            /* sent, not yet acknowledged by the other end */
    char local[64], remote[64];   /* "ADDR:PORT", an IPv4-mapped address as IPv4 */
};

struct conns {
    struct conn *c;
    size_t n, cap;
};

static int add(struct conns *l, const struct conn *c)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        struct conn *m = realloc(l->c, cap * sizeof *m);
        if (!m)
            return -ENOMEM;
        l->c = m, l->cap = cap;
    }
    l->c[l->n++] = *c;
    return 0;
}

/* "0100007F:1F90" (tcp) or 32 hex digits:port (tcp6), as the kernel prints them */
static int endpoint(const char *hex, int v6, char *out, size_t len)
{
    const char *colon = strchr(hex, ':');
    if (!colon)
        return -1;
    unsigned port = (unsigned)strtoul(colon + 1, NULL, 16);
    char ip[INET6_ADDRSTRLEN];
    if (!v6) {
        uint32_t a = (uint32_t)strtoul(hex, NULL, 16); /* the bytes in memory order */
        struct in_addr in;
        memcpy(&in, &a, sizeof in);
        inet_ntop(AF_INET, &in, ip, sizeof ip);
    } else {
        if (colon - hex != 32)
            return -1;
        struct in6_addr in6;
        for (int w = 0; w < 4; w++) {
            char word[9];
            memcpy(word, hex + 8 * w, 8);
            word[8] = 0;
            uint32_t v = (uint32_t)strtoul(word, NULL, 16);
            memcpy(&in6.s6_addr[4 * w], &v, 4);
        }
        if (IN6_IS_ADDR_V4MAPPED(&in6))
            inet_ntop(AF_INET, &in6.s6_addr[12], ip, sizeof ip);
        else
            inet_ntop(AF_INET6, &in6, ip, sizeof ip);
    }
    snprintf(out, len, "%s:%u", ip, port);
    return 0;
}

/* the socket inodes of pid's fds: ino[k] at fds[k] */
static int socket_fds(pid_t pid, unsigned long long **ino, int **fds, size_t *n)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return -errno;
    struct dirent *e;
    size_t cap = 0;
    *n = 0;
    while ((e = readdir(d))) {
        char link[300], target[64];
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(link, sizeof link, "/proc/%d/fd/%s", (int)pid, e->d_name);
        ssize_t len = readlink(link, target, sizeof target - 1);
        if (len <= 0)
            continue;
        target[len] = 0;
        unsigned long long i;
        if (sscanf(target, "socket:[%llu]", &i) != 1)
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 32;
            unsigned long long *a = realloc(*ino, cap * sizeof *a);
            int *b = a ? realloc(*fds, cap * sizeof *b) : NULL;
            if (a)
                *ino = a;
            if (!a || !b) {
                closedir(d);
                return -ENOMEM;
            }
            *fds = b;
        }
        (*ino)[*n] = i;
        (*fds)[(*n)++] = atoi(e->d_name);
    }
    closedir(d);
    return 0;
}

/* whether remote ("IP:PORT") is the step's PMIx server, in pid's PMIX_SERVER_URI*
 * (...;tcp4://IP:PORT): the task's link to Slurm, the engine's CTX_FD_PMI */
static int pmix_server(pid_t pid, const char *remote)
{
    char path[64], want[96];
    snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
    const char *colon = strrchr(remote, ':');
    if (!colon)
        return 0;
    if (strchr(remote, ':') != colon) /* IPv6: [ADDR]:PORT in a URI */
        snprintf(want, sizeof want, "://[%.*s]%s", (int)(colon - remote), remote, colon);
    else
        snprintf(want, sizeof want, "://%s", remote);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    char *var = NULL;
    size_t cap = 0;
    int found = 0;
    size_t wl = strlen(want);
    while (!found && getdelim(&var, &cap, 0, f) > 0) {
        const char *at;
        found = !strncmp(var, "PMIX_SERVER_URI", 15) && (at = strstr(var, want)) &&
                (at[wl] == 0 || at[wl] == ';' || at[wl] == ',');
    }
    free(var);
    fclose(f);
    return found;
}

/* whether remote ("IP:PORT") is the link to the step's PMIx server once a restart made
 * it with another step's server, which the task's environment (the first step's)
 * does not name: the task is a PMIx client (its environment names a server), remote
 * is on that server's address, and the port is one root (slurmstepd) listens on.  (The
 * agent runs as the job user: slurmstepd's fds are not its to read.) */
static int restarted_pmix_link(pid_t pid, const char *remote)
{
    char path[64], line[512];
    const char *colon = strrchr(remote, ':');
    if (!colon)
        return 0;
    char at_ip[96];
    snprintf(at_ip, sizeof at_ip, "%.*s:", (int)(colon - remote), remote);
    if (strchr(at_ip, ':') != at_ip + strlen(at_ip) - 1) /* IPv6: [ADDR]: in a URI */
        snprintf(at_ip, sizeof at_ip, "[%.*s]:", (int)(colon - remote), remote);
    char want[128];
    snprintf(want, sizeof want, "://%s", at_ip);
    snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    char *var = NULL;
    size_t cap = 0;
    int client = 0;
    while (!client && getdelim(&var, &cap, 0, f) > 0)
        client = !strncmp(var, "PMIX_SERVER_URI", 15) && strstr(var, want);
    free(var);
    fclose(f);
    unsigned port = (unsigned)atoi(colon + 1);
    int found = 0;
    for (int v6 = 0; v6 < 2 && client && !found; v6++) {
        snprintf(path, sizeof path, "/proc/%d/net/tcp%s", (int)pid, v6 ? "6" : "");
        if (!(f = fopen(path, "re")))
            continue;
        while (!found && fgets(line, sizeof line, f)) {
            unsigned lport, st, uid;
            if (sscanf(line, " %*u: %*[0-9A-Fa-f]:%x %*s %x %*s %*s %*s %u", &lport, &st, &uid) == 3)
                found = st == 0x0A /* TCP_LISTEN */ && lport == port && uid == 0;
        }
        fclose(f);
    }
    return found;
}

/* the established TCP connections of task `task`'s processes (the tree's members);
 * those between two of its own processes are not the step's business, nor is the
 * link to the step's PMIx server */
static int task_conns(const struct crtree *tr, int task, struct conns *out)
{
    unsigned long long *ino = NULL;
    int *fds = NULL;
    size_t n = 0, all = 0;
    struct { unsigned long long ino; int fd; } *mine = NULL;
    int rc = 0;
    for (int p = 0; p < tr->n && !rc; p++) {
        rc = socket_fds(tr->m[p].pid, &ino, &fds, &n);
        void *m = rc ? NULL : realloc(mine, (all + n + 1) * sizeof *mine);
        if (!rc && !m)
            rc = -ENOMEM;
        if (rc)
            break;
        mine = m;
        for (size_t k = 0; k < n; k++) {
            mine[all].ino = ino[k];
            mine[all++].fd = p == 0 ? fds[k] : -1 - fds[k]; /* another process's: marked */
        }
    }
    free(ino);
    free(fds);
    size_t first = out->n;
    for (int v6 = 0; v6 < 2 && !rc && tr->n; v6++) {
        char path[64], line[512];
        snprintf(path, sizeof path, "/proc/%d/net/tcp%s", (int)tr->m[0].pid, v6 ? "6" : "");
        FILE *f = fopen(path, "r");
        if (!f)
            continue; /* no IPv6 */
        while (fgets(line, sizeof line, f)) {
            char l[80], r[80];
            unsigned st;
            unsigned long txq;
            unsigned long long i;
            if (sscanf(line, " %*u: %79s %79s %x %lx:%*x %*s %*s %*u %*u %llu", l, r, &st, &txq, &i) != 5 ||
                st != 1 /* TCP_ESTABLISHED */ || !i)
                continue;
            for (size_t k = 0; k < all; k++) {
                if (mine[k].ino != i)
                    continue;
                struct conn c = { task, mine[k].fd, i, txq, "", "" };
                if (endpoint(l, v6, c.local, sizeof c.local) == 0 &&
                    endpoint(r, v6, c.remote, sizeof c.remote) == 0 &&
                    !pmix_server(tr->m[0].pid, c.remote) && !restarted_pmix_link(tr->m[0].pid, c.remote) &&
                    (rc = add(out, &c)) < 0)
                    break;
                break;
            }
        }
        fclose(f);
    }
    free(mine);
    /* a connection whose both ends are in the task's own tree is saved with it */
    for (size_t a = first; a < out->n; a++)
        for (size_t b = first; b < out->n; b++)
            if (a != b && !strcmp(out->c[a].local, out->c[b].remote) &&
                !strcmp(out->c[a].remote, out->c[b].local))
                out->c[a].task = -1 - out->c[a].task;
    return rc;
}

static long ms_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Waits up to ms for the requester's word on fd: 1 if it called the create off (said
 * "abort", or ended), 0 otherwise (also with no fd) */
static int called_off(int fd, int ms)
{
    if (fd < 0) {
        struct timespec ts = { 0, ms * 1000000L };
        nanosleep(&ts, NULL);
        return 0;
    }
    struct pollfd pf = { fd, POLLIN, 0 };
    if (poll(&pf, 1, ms) <= 0)
        return 0;
    char buf[64];
    ssize_t got = read(fd, buf, sizeof buf - 1);
    if (got < 0)
        return errno != EINTR && errno != EAGAIN;
    buf[got] = 0;
    return got == 0 || strstr(buf, "abort") != NULL;
}

int cr_step_conns_check(struct coord_task *t, int n, const struct crtree *tr, int frozen,
                        const struct step_meet *m)
{
    struct conns mine = { 0 };
    /* the memory they share listed for the restart (or refused) */
    int rc = 0, shm = frozen ? cr_step_shm_list(t, n, tr, m->dir, m->nodeid, m->node) : 0;
    /* the data in flight drained: once every byte a frozen task sent is acknowledged,
     * it is in its receiver's queue, where the receiver's image takes it (the tasks
     * send nothing more); a receiver whose buffer is full cannot take it */
    struct timespec d0;
    clock_gettime(CLOCK_MONOTONIC, &d0);
    if (frozen) /* after "write", before this node's list */
        cr_coord_fault_point("conns", m->node);
    for (int again = 1; again && frozen && !rc && !shm;) {
        mine.n = 0;
        for (int i = 0; i < n && !rc; i++)
            rc = task_conns(&tr[i], i, &mine);
        again = 0;
        for (size_t k = 0; k < mine.n && !rc; k++)
            again |= mine.c[k].task >= 0 && mine.c[k].txq > 0;
        if (again && ms_since(&d0) >= 5000) {
            for (size_t k = 0; k < mine.n; k++) {
                struct conn *x = &mine.c[k];
                if (x->task < 0 || !x->txq || t[x->task].status)
                    continue;
                t[x->task].status = EAGAIN;
                snprintf(t[x->task].err, sizeof t[x->task].err, "fd %d (TCP connection %s -> %s): "
                         "%lu bytes it sent were not taken by the other end within 5 s (its receive "
                         "buffer is full); try again", x->fd < 0 ? -1 - x->fd : x->fd, x->local,
                         x->remote, x->txq);
            }
            rc = -EAGAIN;
        } else if (again) {
            struct timespec ts = { 0, 10 * 1000000L };
            nanosleep(&ts, NULL);
        }
    }
    /* this node's list, whole or not at all (renamed into place) */
    char path[4400], tmp[4500];
    snprintf(path, sizeof path, "%s/conns.%u", m->dir, m->nodeid);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "we");
    if (f) {
        if (!frozen || rc || shm)
            fprintf(f, "abort\n");
        for (size_t k = 0; k < mine.n && frozen && !rc; k++)
            if (mine.c[k].task >= 0)
                fprintf(f, "%s %s\n", mine.c[k].local, mine.c[k].remote);
        if (fclose(f) == 0)
            rename(tmp, path);
    }
    if (!f && !rc)
        rc = -errno;
    if (!frozen || rc || shm) {
        free(mine.c);
        return rc ? -rc : shm;
    }
    /* every node's list: a connection is the step's if another task has its reverse */
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char **seen = calloc(mine.n + 1, sizeof *seen);
    int waiting = 1, aborted = 0;
    while (waiting && !aborted) {
        waiting = 0;
        for (unsigned k = 0; k < m->nnodes && !aborted; k++) {
            snprintf(path, sizeof path, "%s/conns.%u", m->dir, k);
            FILE *g = fopen(path, "re");
            if (!g) {
                waiting = 1;
                continue;
            }
            char line[256], l[80], r[80];
            while (fgets(line, sizeof line, g)) {
                if (!strcmp(line, "abort\n"))
                    aborted = 1;
                if (sscanf(line, "%79s %79s", l, r) != 2)
                    continue;
                for (size_t c = 0; c < mine.n; c++)
                    if (mine.c[c].task >= 0 && !strcmp(mine.c[c].local, r) && !strcmp(mine.c[c].remote, l))
                        seen[c] = "";
            }
            fclose(g);
        }
        if (waiting && ms_since(&t0) >= (long)m->wait_ms) {
            for (int i = 0; i < n; i++)
                if (!t[i].status) {
                    t[i].status = ETIMEDOUT;
                    snprintf(t[i].err, sizeof t[i].err, "not every node listed its tasks' connections "
                             "within %u ms (%s/conns.*)", m->wait_ms, m->dir);
                }
            free(seen);
            free(mine.c);
            return ETIMEDOUT;
        }
        if (waiting && called_off(m->call_off_fd, 20)) {
            for (int i = 0; i < n; i++)
                if (!t[i].status) {
                    t[i].status = ECANCELED;
                    snprintf(t[i].err, sizeof t[i].err, "the checkpoint was called off while the "
                             "nodes listed their connections (another node failed)");
                }
            free(seen);
            free(mine.c);
            return ECANCELED;
        }
    }
    int first = 0;
    for (size_t c = 0; c < mine.n && !aborted; c++) {
        struct conn *x = &mine.c[c];
        if (x->task < 0 || seen[c] || t[x->task].status)
            continue;
        t[x->task].status = first = first ? first : ENOTCONN;
        if (x->fd >= 0)
            snprintf(t[x->task].err, sizeof t[x->task].err, "fd %d is a TCP connection %s -> %s that "
                     "leads outside the step (no task of the step has its other end): it cannot be "
                     "made again at restart; close it before the checkpoint", x->fd, x->local, x->remote);
        else
            snprintf(t[x->task].err, sizeof t[x->task].err, "fd %d of a child process is a TCP "
                     "connection %s -> %s that leads outside the step (no task of the step has its "
                     "other end): it cannot be made again at restart; close it before the checkpoint",
                     -1 - x->fd, x->local, x->remote);
    }
    free(seen);
    free(mine.c);
    return first;
}
