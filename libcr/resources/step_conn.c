/* Connections between two tasks of a Slurm step (CTX_FD_STEP_CONN): a TCP connection
 * whose other end is in another task's image of the same step checkpoint (the node
 * agents ask for it with CR_CTL_STEP, once every task of the step is frozen and the
 * data each had sent is in its receiver's queue).  Each end saves its addresses, its
 * options and what was queued to it (peeked: a task that goes on reads it as before).
 *
 * At restart (cr_restart --step-dir=DIR, DIR shared by the new step's tasks), the two
 * ends meet again through files in DIR, named after the connection as it was (its
 * two endpoints, lower first):
 *   c.ID.lo / c.ID.hi   what was queued to that end (written by it, before anything waits)
 *   c.ID.addr           where the lower end listens for this connection, with a token
 *   bound.RANK          the task's listening TCP sockets are bound again (a barrier:
 *                       a task with connections to make waits for every rank's, so
 *                       that no new port it takes is one a listener must have back;
 *                       the rank and the task count come from the generation's manifest)
 *   done.RANK           the task is past the barrier (the last one removes the marks)
 * The lower end listens (one socket per connection, on the node's address, any port)
 * and the higher end connects and sends the token first; everything either waits for
 * was written before its writer waits for anything, so no order of tasks or fds can
 * wait in a circle.  Each end then sends the other's saved queue into the new
 * connection (the other's restorer reads nothing: the bytes are its queue again,
 * ahead of anything its program will send) and is placed at its fd number with its
 * options.  New addresses and ports: the program sees its new ones if it asks.
 * Without --step-dir (one task's image restarted alone) the connection comes back
 * reset, as a connection to the outside does. */
#define _GNU_SOURCE
#include "resources.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "context_reader.h"

/* ---- dump (add_socket, in socket.c, hands it the connections leading outside) ---- */

int save_step_conn(struct dump *d, int fd, const struct stat *st, const struct sockaddr_storage *self,
                   socklen_t slen, const struct sockaddr_storage *peer, socklen_t plen,
                   const char *here, const char *there, char *buf, size_t bufsize)
{
    char text[600];
    snprintf(text, sizeof text, "TCP connection %s -> %s to another task of the step", here, there);
    if (shared_in_tree(d, fd))
        return fail(d, ENOTSUP, "fd %d (%s) is shared by processes of the task's tree: this version "
                    "makes a connection to another task again for one process only", fd, text);
    int unsent = 0;
    ioctl(fd, SIOCOUTQNSD, &unsent);
    if (unsent > 0) /* the peer's receive buffer is full: it cannot be drained into it */
        return fail(d, EAGAIN, "fd %d (%s) has %d bytes its peer's buffer has not taken yet; "
                    "try again", fd, text, unsent);
    static struct ctx_socket so; /* the dump runs in one thread at a time */
    memset(&so, 0, sizeof so);
    so.domain = self->ss_family;
    so.type = SOCK_STREAM;
    so.protocol = IPPROTO_TCP;
    so.state = CTX_SOCK_CONNECTED;
    so.addr_len = slen;
    so.peer_len = plen;
    memcpy(so.addr, self, slen);
    memcpy(so.peer, peer, plen);
    if (sock_save_opts(fd, &so) < 0)
        return fail(d, E2BIG, "fd %d (%s) has more than %d socket options changed", fd, text,
                    CTX_SOCKOPT_MAX);
    ssize_t queued = sock_peek_queue(d, fd, text, SOCK_STREAM, 0, 0, buf, bufsize, &so.nmsgs, NULL, NULL);
    if (queued < 0)
        return (int)queued;
    struct ctx_fd *r = sock_record(d, fd, CTX_FD_STEP_CONN, text, sizeof so + (size_t)queued, st);
    if (!r)
        return fail(d, E2BIG, "too much metadata");
    memcpy((char *)(r + 1) + r->path_len, &so, sizeof so);
    memcpy((char *)(r + 1) + r->path_len + sizeof so, buf, (size_t)queued);
    tcp_reset_at_kill(fd);
    return 0;
}

/* ---- restart ---- */

#define STEP_WAIT_MS 120000    /* the other tasks of the step start within this */
#define TOKEN_LEN 16
#define MAX_CONNS 1024

static struct {
    uint32_t rec;
    int sock;                  /* the lower end: its listener; the higher: its connection */
    char token[2 * TOKEN_LEN + 1]; /* the lower end: what its peer must send first */
} conns[MAX_CONNS];
static int nconns;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* "ADDR.PORT" of a saved endpoint, for file names and messages */
static void endpoint(const unsigned char *sa, char *out, size_t len)
{
    uint16_t family;
    memcpy(&family, sa, sizeof family);
    char ip[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (family == AF_INET) {
        struct sockaddr_in in;
        memcpy(&in, sa, sizeof in);
        inet_ntop(AF_INET, &in.sin_addr, ip, sizeof ip);
        port = ntohs(in.sin_port);
    } else if (family == AF_INET6) {
        struct sockaddr_in6 in6;
        memcpy(&in6, sa, sizeof in6);
        inet_ntop(AF_INET6, &in6.sin6_addr, ip, sizeof ip);
        port = ntohs(in6.sin6_port);
    }
    snprintf(out, len, "%s.%u", ip, port);
}

/* the connection's name (its two endpoints, lower first) and whether this end is the
 * lower one: the same at both ends */
static int conn_name(const struct ctx_socket *so, char *name, size_t len)
{
    char self[80], peer[80];
    endpoint(so->addr, self, sizeof self);
    endpoint(so->peer, peer, sizeof peer);
    int cmp = memcmp(so->addr, so->peer, sizeof so->addr);
    int lower = cmp < 0;
    snprintf(name, len, "%s-%s", lower ? self : peer, lower ? peer : self);
    return lower;
}

static void path_of(struct child *c, char *out, size_t len, const char *name, const char *what)
{
    snprintf(out, len, "%s/c.%s.%s", c->o->step_dir, name, what);
}

/* the whole of a published file (malloc'd, *len), waiting until its peer wrote it */
static char *await_file(struct child *c, const struct ctx_fd *f, const char *path, size_t *len,
                        uint64_t until)
{
    for (;;) {
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd >= 0) {
            struct stat st;
            char *buf = fstat(fd, &st) == 0 ? malloc((size_t)st.st_size + 1) : NULL;
            if (!buf || read(fd, buf, (size_t)st.st_size) != st.st_size)
                child_fail(c, errno ? errno : EIO, "cannot read %s: %s", path, strerror(errno ? errno : EIO));
            close(fd);
            buf[st.st_size] = 0;
            *len = (size_t)st.st_size;
            return buf;
        }
        if (errno != ENOENT)
            child_fail(c, errno, "cannot open %s: %s", path, strerror(errno));
        if (now_ms() >= until)
            child_fail(c, ETIMEDOUT, "fd %d (%s): its other end did not come back within %d s (no "
                       "%s): restart the whole step, every task with the same --step-dir",
                       f->fd, (const char *)(f + 1), STEP_WAIT_MS / 1000, path);
        struct timespec ts = { 0, 20 * 1000000L };
        nanosleep(&ts, NULL);
    }
}

/* a listening socket on this node for the connection: on the address it had, when it
 * is this node's, else on the node's own (its hostname's) */
static int listen_for(struct child *c, const struct ctx_fd *f, const struct ctx_socket *so,
                      struct sockaddr_storage *where, socklen_t *wlen)
{
    int s = socket(so->domain, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
    if (s < 0)
        child_fail(c, errno, "fd %d: cannot make a socket: %s", f->fd, strerror(errno));
    memset(where, 0, sizeof *where);
    memcpy(where, so->addr, so->addr_len);
    *wlen = so->addr_len;
    if (so->domain == AF_INET)
        ((struct sockaddr_in *)where)->sin_port = 0;
    else
        ((struct sockaddr_in6 *)where)->sin6_port = 0;
    if (bind(s, (struct sockaddr *)where, *wlen) < 0) {
        if (errno != EADDRNOTAVAIL)
            child_fail(c, errno, "fd %d (%s): cannot listen again: %s", f->fd, (const char *)(f + 1),
                       strerror(errno));
        char host[256] = "";
        struct addrinfo hints = { .ai_family = so->domain, .ai_socktype = SOCK_STREAM }, *ai = NULL;
        gethostname(host, sizeof host - 1);
        int e = getaddrinfo(host, NULL, &hints, &ai);
        if (e || !ai)
            child_fail(c, EADDRNOTAVAIL, "fd %d (%s): its address is not this node's, and this "
                       "node's name %s has no address of its family: %s", f->fd,
                       (const char *)(f + 1), host, gai_strerror(e));
        memcpy(where, ai->ai_addr, ai->ai_addrlen);
        *wlen = ai->ai_addrlen;
        freeaddrinfo(ai);
        if (bind(s, (struct sockaddr *)where, *wlen) < 0)
            child_fail(c, errno, "fd %d: cannot listen on %s's address: %s", f->fd, host, strerror(errno));
    }
    if (listen(s, 1) < 0 || getsockname(s, (struct sockaddr *)where, wlen) < 0)
        child_fail(c, errno, "fd %d: cannot listen: %s", f->fd, strerror(errno));
    return move_high(c, s);
}

/* This task's rank and the step's task count, from the manifest of the generation its
 * image is in (the coordinated checkpoint writes it next to the tasks' files); 0 when
 * there is none (an image restarted from elsewhere: no barrier, as before). */
int cr_step_rank(struct child *c, unsigned *rank, unsigned *tasks)
{
    const char *src = c->o->src, *slash = src ? strrchr(src, '/') : NULL;
    if (!slash)
        return 0;
    char path[4400], line[1024], file[256];
    snprintf(path, sizeof path, "%.*s/manifest", (int)(slash - src), src);
    FILE *m = fopen(path, "re");
    if (!m)
        return 0;
    unsigned r, n = 0;
    int found = 0;
    while (fgets(line, sizeof line, m)) {
        if (sscanf(line, "tasks %u", &r) == 1)
            n = r;
        else if (sscanf(line, "task %u %255s", &r, file) == 2 && !strcmp(file, slash + 1))
            *rank = r, found = 1;
    }
    fclose(m);
    *tasks = n;
    return found && *rank < n;
}

/* The step's barrier, in DIR: bound.RANK once a task's listeners are bound; a task that
 * makes connections again (wait) then waits for every rank's.  A tree's other
 * processes do not take part (their root's restore may wait for nothing of theirs). */
static void step_barrier(struct child *c, int wait)
{
    unsigned rank = 0, tasks = 0;
    if ((c->pool && c->member != 0) || !cr_step_rank(c, &rank, &tasks))
        return;
    char path[4400];
    snprintf(path, sizeof path, "%s/bound.%u", c->o->step_dir, rank);
    child_publish(c, path, "", 0);
    uint64_t until = now_ms() + STEP_WAIT_MS;
    for (unsigned r = 0; wait && r < tasks; r++) {
        snprintf(path, sizeof path, "%s/bound.%u", c->o->step_dir, r);
        while (access(path, F_OK) < 0) {
            if (errno != ENOENT)
                child_fail(c, errno, "cannot look for %s: %s", path, strerror(errno));
            if (now_ms() >= until)
                child_fail(c, ETIMEDOUT, "rank %u of the step did not come back within %d s (no %s): "
                           "restart the whole step, every task with the same --step-dir", r,
                           STEP_WAIT_MS / 1000, path);
            nanosleep(&(struct timespec){ 0, 20 * 1000000L }, NULL);
        }
    }
    /* past it: done.RANK; the last to say so (every mark seen) takes the marks away */
    snprintf(path, sizeof path, "%s/done.%u", c->o->step_dir, rank);
    child_publish(c, path, "", 0);
    for (unsigned r = 0; r < tasks; r++) {
        snprintf(path, sizeof path, "%s/done.%u", c->o->step_dir, r);
        if (access(path, F_OK) < 0)
            return;
    }
    for (unsigned r = 0; r < tasks; r++) {
        snprintf(path, sizeof path, "%s/bound.%u", c->o->step_dir, r);
        unlink(path);
        snprintf(path, sizeof path, "%s/done.%u", c->o->step_dir, r);
        unlink(path);
    }
}

/* Before any fd is placed: each end says what was queued to it, the lower ends listen
 * and say where, then the higher ends connect (which needs no one to accept). */
static void prepare_step_conns(struct child *c)
{
    struct ctx_image *img = c->img;
    nconns = 0;
    for (int pass = 0; pass < 3; pass++) {
        if (pass == 1 && c->o->step_dir) {
            /* every task's listeners bound before any new port is taken (ours below
             * included): the kernel then picks none of theirs */
            bind_listeners_early(c);
            step_barrier(c, nconns > 0);
        }
        for (uint32_t i = 0; i < img->proc->nfds; i++) {
            const struct ctx_fd *f = img->fds[i];
            if (f->kind != CTX_FD_STEP_CONN || !c->o->step_dir)
                continue;
            struct ctx_socket so;
            const unsigned char *q = sock_state(f, &so);
            char name[200], path[4400];
            int lower = conn_name(&so, name, sizeof name);
            if (pass == 0) {
                if (nconns == MAX_CONNS)
                    child_fail(c, E2BIG, "more than %d connections to other tasks", MAX_CONNS);
                conns[nconns].rec = i;
                conns[nconns].sock = -1;
                /* what was queued to this end: its stream's bytes, one after the other */
                size_t total = 0;
                const unsigned char *x = q;
                for (uint32_t k = 0; k < so.nmsgs; k++) {
                    struct ctx_sock_msg m;
                    memcpy(&m, x, sizeof m);
                    total += m.len;
                    x += sizeof m + m.len;
                }
                char *data = malloc(total + 1);
                if (!data)
                    child_fail(c, ENOMEM, "out of memory");
                size_t at = 0;
                x = q;
                for (uint32_t k = 0; k < so.nmsgs; k++) {
                    struct ctx_sock_msg m;
                    memcpy(&m, x, sizeof m);
                    memcpy(data + at, x + sizeof m, m.len);
                    at += m.len;
                    x += sizeof m + m.len;
                }
                path_of(c, path, sizeof path, name, lower ? "lo" : "hi");
                child_publish(c, path, data, total);
                free(data);
                nconns++;
                continue;
            }
            int k = 0;
            while (k < nconns && conns[k].rec != i)
                k++;
            if (pass == 1) { /* the lower end listens for its peer, after the barrier */
                if (lower) {
                    struct sockaddr_storage where;
                    socklen_t wlen;
                    conns[k].sock = listen_for(c, f, &so, &where, &wlen);
                    char line[600], host[INET6_ADDRSTRLEN] = "";
                    unsigned char token[TOKEN_LEN];
                    if (getrandom(token, sizeof token, 0) != (ssize_t)sizeof token)
                        child_fail(c, errno, "cannot draw a token: %s", strerror(errno));
                    char hex[2 * TOKEN_LEN + 1];
                    for (int k = 0; k < TOKEN_LEN; k++)
                        snprintf(hex + 2 * k, 3, "%02x", token[k]);
                    uint16_t port;
                    if (where.ss_family == AF_INET) {
                        inet_ntop(AF_INET, &((struct sockaddr_in *)&where)->sin_addr, host, sizeof host);
                        port = ntohs(((struct sockaddr_in *)&where)->sin_port);
                    } else {
                        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&where)->sin6_addr, host, sizeof host);
                        port = ntohs(((struct sockaddr_in6 *)&where)->sin6_port);
                    }
                    int n = snprintf(line, sizeof line, "%s %u %s\n", host, (unsigned)port, hex);
                    memcpy(conns[k].token, hex, sizeof hex);
                    path_of(c, path, sizeof path, name, "addr");
                    child_publish(c, path, line, (size_t)n);
                }
                continue;
            }
            if (lower)
                continue;
            /* pass 2, the higher end: connect, the token first */
            size_t len;
            path_of(c, path, sizeof path, name, "addr");
            char *line = await_file(c, f, path, &len, now_ms() + STEP_WAIT_MS);
            char host[INET6_ADDRSTRLEN + 1], hex[2 * TOKEN_LEN + 2];
            unsigned port;
            if (sscanf(line, "%46s %u %33s", host, &port, hex) != 3 || strlen(hex) != 2 * TOKEN_LEN ||
                port == 0 || port > 65535)
                child_fail(c, EINVAL, "%s is not what a restart of the step wrote", path);
            free(line);
            struct sockaddr_storage to;
            socklen_t tlen;
            memset(&to, 0, sizeof to);
            if (so.domain == AF_INET) {
                struct sockaddr_in *in = (struct sockaddr_in *)&to;
                in->sin_family = AF_INET;
                in->sin_port = htons((uint16_t)port);
                tlen = inet_pton(AF_INET, host, &in->sin_addr) == 1 ? sizeof *in : 0;
            } else {
                struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&to;
                in6->sin6_family = AF_INET6;
                in6->sin6_port = htons((uint16_t)port);
                tlen = inet_pton(AF_INET6, host, &in6->sin6_addr) == 1 ? sizeof *in6 : 0;
            }
            if (!tlen)
                child_fail(c, EINVAL, "%s: %s is not an address", path, host);
            int s = socket(so.domain, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
            if (s < 0 || connect(s, (struct sockaddr *)&to, tlen) < 0)
                child_fail(c, errno, "fd %d (%s): cannot connect again to its other end at %s port "
                           "%u: %s", f->fd, (const char *)(f + 1), host, port, strerror(errno));
            unsigned char token[TOKEN_LEN];
            for (int b = 0; b < TOKEN_LEN; b++) {
                unsigned v;
                sscanf(hex + 2 * b, "%2x", &v);
                token[b] = (unsigned char)v;
            }
            if (write(s, token, sizeof token) != (ssize_t)sizeof token)
                child_fail(c, errno, "fd %d: cannot write to the new connection: %s", f->fd, strerror(errno));
            unlink(path);
            conns[k].sock = move_high(c, s);
        }
    }
}

/* reads exactly len bytes from s within the time left */
static int read_all(int s, void *buf, size_t len, uint64_t until)
{
    char *p = buf;
    while (len) {
        struct pollfd pf = { s, POLLIN, 0 };
        uint64_t now = now_ms();
        if (now >= until || poll(&pf, 1, (int)(until - now)) == 0)
            return -ETIMEDOUT;
        ssize_t n = read(s, p, len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -ECONNRESET;
        p += n, len -= (size_t)n;
    }
    return 0;
}

static int write_all(int s, const char *p, size_t len, uint64_t until)
{
    while (len) {
        struct pollfd pf = { s, POLLOUT, 0 };
        uint64_t now = now_ms();
        if (now >= until || poll(&pf, 1, (int)(until - now)) == 0)
            return -ETIMEDOUT;
        ssize_t n = send(s, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0)
            return -errno;
        p += n, len -= (size_t)n;
    }
    return 0;
}

static int restore_step_conn(struct child *c, const struct ctx_fd *f, uint32_t rec, int *own)
{
    if (!c->o->step_dir) /* one task alone: as a connection to the outside */
        return cr_fd_kind(CTX_FD_SOCKET_DEAD)->restore(c, f, rec, own);
    int k = 0;
    while (k < nconns && conns[k].rec != rec)
        k++;
    if (k == nconns)
        child_fail(c, EINVAL, "fd %d: the step's connection was not prepared", f->fd);
    struct ctx_socket so;
    sock_state(f, &so);
    char name[200], path[4400];
    int lower = conn_name(&so, name, sizeof name);
    uint64_t until = now_ms() + STEP_WAIT_MS;
    int s = conns[k].sock;
    if (lower) { /* accept the higher end, the one that knows the token */
        const char *hex = conns[k].token;
        for (;;) {
            struct pollfd pf = { s, POLLIN, 0 };
            uint64_t now = now_ms();
            if (now >= until || poll(&pf, 1, (int)(until - now)) <= 0)
                child_fail(c, ETIMEDOUT, "fd %d (%s): its other end did not connect again within %d "
                           "s: restart the whole step, every task with the same --step-dir", f->fd,
                           (const char *)(f + 1), STEP_WAIT_MS / 1000);
            int a = accept4(s, NULL, NULL, SOCK_CLOEXEC);
            if (a < 0)
                continue;
            unsigned char got[TOKEN_LEN];
            char ghex[2 * TOKEN_LEN + 1];
            if (read_all(a, got, sizeof got, now_ms() + 10000) == 0) {
                for (int b = 0; b < TOKEN_LEN; b++)
                    snprintf(ghex + 2 * b, 3, "%02x", got[b]);
                if (!strcmp(ghex, hex)) {
                    close(s);
                    s = a;
                    break;
                }
            }
            close(a); /* not our peer */
        }
    }
    conns[k].sock = -1; /* the driver's now */
    /* the other end's queue, sent to it again: its bytes come first */
    path_of(c, path, sizeof path, name, lower ? "hi" : "lo");
    size_t len;
    char *data = await_file(c, f, path, &len, until);
    int rc = write_all(s, data, len, until);
    if (rc < 0)
        child_fail(c, -rc, "fd %d (%s): cannot send its other end the %zu bytes queued to it: %s",
                   f->fd, (const char *)(f + 1), len, strerror(-rc));
    free(data);
    unlink(path);
    sock_apply_opts(c, s, f, &so);
    return s;
}

/* listeners left by a failed restart are closed with the child; nothing to keep */
static void finish_step_conns(struct child *c)
{
    (void)c;
    for (int k = 0; k < nconns; k++)
        if (conns[k].sock >= 0)
            close(conns[k].sock);
    nconns = 0;
}

/* ---- the reader and cr_info ---- */

/* a socket record (valid_socket_state) of a TCP connection with both ends' addresses */
static int valid_step_conn(const struct ctx_fd *f, const struct ctx_fd *const *earlier, uint32_t n)
{
    (void)earlier, (void)n;
    struct ctx_socket so; /* after the path: not aligned */
    if (!valid_socket_state(f))
        return 0;
    memcpy(&so, fd_rec_extra(f), sizeof so);
    return so.domain != AF_UNIX && so.type == SOCK_STREAM && so.state == CTX_SOCK_CONNECTED &&
           so.addr_len && so.peer_len;
}

const struct cr_fd_ops cr_fd_step_conn = {
    .kind = CTX_FD_STEP_CONN, .name = "stepconn", .prepare = prepare_step_conns,
    .restore = restore_step_conn, .restore_nonblock = 1, .finish = finish_step_conns,
    .valid = valid_step_conn, .describe = describe_socket, .socket = 1,
};
