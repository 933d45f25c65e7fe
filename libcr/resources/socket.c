/* Sockets: the scan (sock_diag), each socket's record (a pair inside: unix_sock.c; a
 * listening one; stdio; else a connection to the outside, by policy a reset socket at
 * restart, the default, or a refusal), and listening and reset sockets made again. */
#define _GNU_SOURCE
#include "resources.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/inet_diag.h>
#include <linux/unix_diag.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "context_reader.h"

/* ---- dump ---- */

#define NL_BUF (64 * 1024)

static struct sock_info *find_sock(struct sock_scan *ss, uint64_t ino)
{
    for (int i = 0; i < ss->n; i++)
        if (ss->socks[i].ino == ino)
            return &ss->socks[i];
    return NULL;
}

/* Sends a sock_diag dump request and gives each answer to `each`; -errno if the
 * kernel cannot be asked or answers with an error. */
static int diag_dump(const void *req, size_t reqlen, char *buf,
                     void (*each)(const struct nlmsghdr *h, void *arg), void *arg)
{
    int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (nl < 0)
        return -errno;
    int rc = send(nl, req, reqlen, 0) == (ssize_t)reqlen ? 0 : -errno;
    for (int done = 0; rc == 0 && !done;) {
        ssize_t n = recv(nl, buf, NL_BUF, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? -errno : -EIO;
            break;
        }
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
                done = 1;
                break;
            }
            each(h, arg);
        }
    }
    close(nl);
    return rc;
}

static void unix_peer_of(const struct nlmsghdr *h, void *arg)
{
    struct sock_scan *ss = arg;
    const struct unix_diag_msg *m = NLMSG_DATA(h);
    struct sock_info *si = find_sock(ss, m->udiag_ino);
    if (!si)
        return;
    int alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof *m));
    for (const struct rtattr *a = (const struct rtattr *)(m + 1); RTA_OK(a, alen); a = RTA_NEXT(a, alen))
        if (a->rta_type == UNIX_DIAG_PEER)
            memcpy(&si->peer_ino, RTA_DATA(a), sizeof(uint32_t));
}

/* The peers of our unix sockets, from the kernel's sock_diag interface. */
static int unix_peers(struct dump *d, struct sock_scan *ss, char *buf)
{
    struct {
        struct nlmsghdr nh;
        struct unix_diag_req req;
    } msg;
    memset(&msg, 0, sizeof msg);
    msg.nh.nlmsg_len = sizeof msg;
    msg.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    msg.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    msg.req.sdiag_family = AF_UNIX;
    msg.req.udiag_states = ~0U;
    msg.req.udiag_show = UDIAG_SHOW_PEER;
    int rc = diag_dump(&msg, sizeof msg, buf, unix_peer_of, ss);
    return rc < 0 ? fail(d, -rc, "asking sock_diag for the peers of unix sockets") : 0;
}

struct tcp_peer_query {
    uint16_t sport, dport;     /* the peer's view: its source is our destination */
    const void *src, *dst;
    size_t alen;
    uint64_t found;
};

static void tcp_peer_of(const struct nlmsghdr *h, void *arg)
{
    struct tcp_peer_query *q = arg;
    const struct inet_diag_msg *m = NLMSG_DATA(h);
    if (m->id.idiag_sport == q->sport && m->id.idiag_dport == q->dport &&
        !memcmp(m->id.idiag_src, q->src, q->alen) && !memcmp(m->id.idiag_dst, q->dst, q->alen))
        q->found = m->idiag_inode;
}

/* The inode of the TCP socket at the other end of a connection, when it is on this
 * machine (loopback), from sock_diag; 0 if none. */
static uint64_t tcp_peer_inode(const struct sockaddr_storage *self, const struct sockaddr_storage *peer,
                               char *buf)
{
    struct {
        struct nlmsghdr nh;
        struct inet_diag_req_v2 req;
    } msg;
    memset(&msg, 0, sizeof msg);
    msg.nh.nlmsg_len = sizeof msg;
    msg.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    msg.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    msg.req.sdiag_family = (uint8_t)self->ss_family;
    msg.req.sdiag_protocol = IPPROTO_TCP;
    msg.req.idiag_states = ~0U;
    struct tcp_peer_query q = { 0 };
    if (self->ss_family == AF_INET) {
        const struct sockaddr_in *s = (const void *)self, *p = (const void *)peer;
        q = (struct tcp_peer_query){ p->sin_port, s->sin_port, &p->sin_addr, &s->sin_addr, 4, 0 };
    } else {
        const struct sockaddr_in6 *s = (const void *)self, *p = (const void *)peer;
        q = (struct tcp_peer_query){ p->sin6_port, s->sin6_port, &p->sin6_addr, &s->sin6_addr, 16, 0 };
    }
    return diag_dump(&msg, sizeof msg, buf, tcp_peer_of, &q) < 0 ? 0 : q.found;
}

int sock_scan(struct dump *d, struct sock_scan *ss, const int *fds, int nfds, char *buf)
{
    int unix_socks = 0;
    for (int i = 0; i < nfds; i++) {
        struct stat st;
        if (fstat(fds[i], &st) < 0 || !S_ISSOCK(st.st_mode) || find_sock(ss, st.st_ino))
            continue;
        if (ss->n == MAX_SOCKETS)
            return fail(d, E2BIG, "more than %d sockets", MAX_SOCKETS);
        int domain = 0;
        socklen_t len = sizeof domain;
        getsockopt(fds[i], SOL_SOCKET, SO_DOMAIN, &domain, &len);
        ss->socks[ss->n++] = (struct sock_info){ st.st_ino, 0, domain };
        unix_socks += domain == AF_UNIX;
    }
    return unix_socks ? unix_peers(d, ss, buf) : 0;
}

static void describe_addr(const struct sockaddr_storage *a, socklen_t len, char *out, size_t outlen)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const void *)a;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        snprintf(out, outlen, "%s:%u", host, ntohs(in->sin_port));
    } else if (a->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const void *)a;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        snprintf(out, outlen, "[%s]:%u", host, ntohs(in6->sin6_port));
    } else if (a->ss_family == AF_UNIX) {
        const struct sockaddr_un *un = (const void *)a;
        size_t plen = len > offsetof(struct sockaddr_un, sun_path) ? len - offsetof(struct sockaddr_un, sun_path) : 0;
        if (!plen)
            snprintf(out, outlen, "unix:(unnamed)");
        else if (un->sun_path[0])
            snprintf(out, outlen, "unix:%.*s", (int)plen, un->sun_path);
        else
            snprintf(out, outlen, "unix:@%.*s", (int)plen - 1, un->sun_path + 1);
    } else {
        snprintf(out, outlen, "family %d", a->ss_family);
    }
}

const char *sock_type_name(int domain, int type)
{
    if (domain == AF_INET || domain == AF_INET6)
        return type == SOCK_STREAM ? "TCP" : type == SOCK_DGRAM ? "UDP" : "IP";
    if (domain == AF_UNIX)
        return type == SOCK_STREAM ? "unix stream" : type == SOCK_DGRAM ? "unix datagram" : "unix seqpacket";
    return domain == AF_NETLINK ? "netlink" : "other";
}

struct ctx_fd *sock_record(struct dump *d, int fd, uint32_t kind, const char *text,
                           size_t extra, const struct stat *st)
{
    struct ctx_fd *r = fd_record(d, fd, kind, text, extra);
    if (r)
        file_id_of(st, &r->id);
    return r;
}

static int add_socket(struct dump *d, const struct sock_scan *ss, int fd, const struct stat *st,
                      int stdio_source, char *buf, size_t bufsize)
{
    int domain = 0, type = 0, listening = 0;
    socklen_t len = sizeof(int);
    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len);
    len = sizeof(int);
    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
    len = sizeof(int);
    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len);
    struct sockaddr_storage self, peer;
    socklen_t slen = sizeof self, plen = sizeof peer;
    memset(&self, 0, sizeof self);
    memset(&peer, 0, sizeof peer);
    getsockname(fd, (struct sockaddr *)&self, &slen);
    int connected = getpeername(fd, (struct sockaddr *)&peer, &plen) == 0;
    char here[160], there[160], text[600];
    describe_addr(&self, slen, here, sizeof here);
    describe_addr(&peer, plen, there, sizeof there);

    const struct sock_info *si = NULL;
    for (int i = 0; i < ss->n; i++)
        if (ss->socks[i].ino == st->st_ino)
            si = &ss->socks[i];
    int peer_ours = 0;
    for (int i = 0; si && si->peer_ino && i < ss->n; i++)
        peer_ours |= ss->socks[i].ino == si->peer_ino;
    for (uint32_t i = 0; si && si->peer_ino && d->tree && i < d->tree->nsocks; i++)
        peer_ours |= d->tree->socks[i] == si->peer_ino; /* in another process of the tree */
    int tcp_inside = 0;
    if ((domain == AF_INET || domain == AF_INET6) && type == SOCK_STREAM && connected && !listening) {
        /* a loopback connection to a process of the checkpoint: both ends are saved,
         * and come back as a connected stream pair (a unix one) with their data */
        uint64_t peer_ino = tcp_peer_inode(&self, &peer, buf);
        for (int i = 0; peer_ino && i < ss->n; i++)
            tcp_inside |= ss->socks[i].ino == peer_ino;
        for (uint32_t i = 0; peer_ino && d->tree && i < d->tree->nsocks; i++)
            tcp_inside |= d->tree->socks[i] == peer_ino;
        if (tcp_inside) {
            int unsent = 0;
            ioctl(fd, SIOCOUTQNSD, &unsent); /* sent ones are in the peer's queue */
            if (unsent > 0)
                return fail(d, EAGAIN, "fd %d is a TCP connection %s -> %s inside the checkpoint "
                            "with %d bytes not yet delivered; try again", fd, here, there, unsent);
            static struct sock_info tcp_si;
            tcp_si = (struct sock_info){ st->st_ino, peer_ino, domain };
            si = &tcp_si;
        }
    }
    if ((domain == AF_UNIX && si && peer_ours) || tcp_inside)
        /* both ends are ours: saved connected, with what is queued to this end */
        return save_unix_pair(d, fd, st, domain, type, tcp_inside, here, there, si->peer_ino,
                              buf, bufsize);
    if (listening && (domain == AF_INET || domain == AF_INET6 || domain == AF_UNIX)) {
        snprintf(text, sizeof text, "%s listening on %s", sock_type_name(domain, type), here);
        struct ctx_fd *r = sock_record(d, fd, CTX_FD_LISTEN, text, slen, st);
        if (!r)
            return fail(d, E2BIG, "too much metadata");
        r->pos = (uint64_t)domain;
        r->flags = (uint32_t)type;
        memcpy((char *)(r + 1) + r->path_len, &self, slen);
        return 0;
    }
    if (stdio_source >= 0) { /* stdio: cr_restart's own */
        snprintf(text, sizeof text, "%s socket %s", sock_type_name(domain, type), here);
        struct ctx_fd *r = sock_record(d, fd, CTX_FD_INHERIT, text, 0, st);
        if (!r)
            return fail(d, E2BIG, "too much metadata");
        r->source_fd = stdio_source;
        return 0;
    }
    if (connected)
        snprintf(text, sizeof text, "a %s connection %s -> %s", sock_type_name(domain, type), here, there);
    else
        snprintf(text, sizeof text, "a %s socket %s", sock_type_name(domain, type), here);
    if (d->sockets_refuse)
        return fail(d, ENOTSUP, "fd %d is %s, which leads outside the process; --sockets=refuse "
                    "was asked (the default restores it as a reset connection)", fd, text);
    return sock_record(d, fd, CTX_FD_SOCKET_DEAD, text, 0, st) ? 0 : fail(d, E2BIG, "too much metadata");
}

/* --sockets=delay asks this before each try, while the application runs (its caller
 * in dump_fds.c lists the sockets, and takes the fds used here inside a section). */
int external_sockets(const int *fds, int n, char *msg, size_t msglen)
{
    struct sock_scan *ss = malloc(sizeof *ss);
    char *buf = malloc(NL_BUF);
    struct dump d;
    memset(&d, 0, sizeof d);
    d.msg = msg;
    d.msglen = msglen;
    int found = 0;
    if (!ss || !buf || (memset(ss, 0, sizeof *ss), sock_scan(&d, ss, fds, n, buf)) < 0) {
        free(ss);
        free(buf);
        return 0; /* cannot tell: the dump decides */
    }
    for (int i = 0; i < n && !found; i++) {
        struct stat st;
        int listening = 0, domain = 0;
        socklen_t len = sizeof listening;
        getsockopt(fds[i], SOL_SOCKET, SO_ACCEPTCONN, &listening, &len);
        len = sizeof domain;
        getsockopt(fds[i], SOL_SOCKET, SO_DOMAIN, &domain, &len);
        if (listening || fds[i] < 3 || fstat(fds[i], &st) < 0)
            continue; /* listening sockets are saved; stdio is cr_restart's */
        const struct sock_info *si = find_sock(ss, st.st_ino);
        int inside = 0;
        for (int k = 0; si && si->peer_ino && k < ss->n; k++)
            inside |= ss->socks[k].ino == si->peer_ino;
        if (domain == AF_UNIX && inside)
            continue;
        struct sockaddr_storage self, peer;
        socklen_t slen = sizeof self, plen = sizeof peer;
        int type = 0;
        len = sizeof type;
        getsockopt(fds[i], SOL_SOCKET, SO_TYPE, &type, &len);
        memset(&self, 0, sizeof self);
        memset(&peer, 0, sizeof peer);
        getsockname(fds[i], (struct sockaddr *)&self, &slen);
        int connected = getpeername(fds[i], (struct sockaddr *)&peer, &plen) == 0;
        char here[160], there[160];
        describe_addr(&self, slen, here, sizeof here);
        describe_addr(&peer, plen, there, sizeof there);
        snprintf(msg, msglen, "fd %d is a %s %s %s%s%s", fds[i], sock_type_name(domain, type),
                 connected ? "connection" : "socket", here, connected ? " -> " : "",
                 connected ? there : "");
        found = 1;
    }
    free(ss);
    free(buf);
    return found;
}

static int scan_sockets(struct dump *d, struct fd_scan *s, const int *fds, int n)
{
    return sock_scan(d, &s->socks, fds, n, d->scratch + FDINFO_OFF);
}

static int detect_socket(const struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    (void)d, (void)s;
    return S_ISSOCK(p->st.st_mode);
}

static int save_socket(struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    return add_socket(d, &s->socks, p->fd, &p->st, stdio_source(s, p->fd, &p->st),
                      d->scratch + FDINFO_OFF + FDINFO_SIZE, BOUNCE_SIZE - FDINFO_SIZE);
}

/* ---- restart ---- */

/* A connection that led outside: a socket on the same fd number whose first read or
 * write fails with ECONNRESET (a unix stream whose peer went away with data unread),
 * so that the number is not silently reused by a later open(). */
static int dead_socket(struct child *c, const struct ctx_fd *f, uint32_t rec, int *own)
{
    (void)rec, (void)own;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 || write(sv[1], "", 1) != 1)
        child_fail(c, errno, "cannot make the reset socket for fd %d: %s", f->fd, strerror(errno));
    close(sv[0]);
    return sv[1];
}

static int listen_again(struct child *c, const struct ctx_fd *f, uint32_t rec)
{
    (void)rec;
    const struct sockaddr_un *un = (const void *)((const char *)(f + 1) + f->path_len);
    socklen_t alen = f->extra_len;
    int s = socket((int)f->pos, (int)f->flags | SOCK_CLOEXEC, 0);
    if (s < 0)
        child_fail(c, errno, "cannot create the listening socket of fd %d: %s", f->fd, strerror(errno));
    int one = 1;
    if (f->pos != AF_UNIX)
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    else if (un->sun_family == AF_UNIX && alen > offsetof(struct sockaddr_un, sun_path) && un->sun_path[0]) {
        /* a socket file left by the checkpointed process, if nobody answers on it */
        char path[sizeof un->sun_path + 1];
        size_t n = alen - offsetof(struct sockaddr_un, sun_path);
        memcpy(path, un->sun_path, n < sizeof path - 1 ? n : sizeof path - 1);
        path[n < sizeof path - 1 ? n : sizeof path - 1] = 0;
        struct stat st;
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_uid == getuid() && probe >= 0 &&
            connect(probe, (const struct sockaddr *)un, alen) < 0 && errno == ECONNREFUSED)
            unlink(path);
        if (probe >= 0)
            close(probe);
    }
    if (bind(s, (const struct sockaddr *)un, alen) < 0 || listen(s, SOMAXCONN) < 0)
        child_fail(c, errno, "cannot listen again at fd %d (%s): %s%s", f->fd,
                   (const char *)(f + 1), strerror(errno),
                   errno == EADDRINUSE ? " (another program listens there, or connections the "
                   "old process closed wait in TIME_WAIT for up to a minute when it did not set "
                   "SO_REUSEADDR: try again later)" : "");
    return s;
}

/* A tree's unix socket whose peer is in another process: the pool made the pair. */
int pool_pair_end(struct child *c, const struct ctx_fd *f)
{
    for (uint32_t i = 0; c->pool && i < c->pool->nsocks; i++)
        if (c->pool->socks[i].ino == f->id.ino)
            return c->pool->socks[i].fd;
    return -1;
}

static int restore_listen(struct child *c, const struct ctx_fd *f, uint32_t rec, int *own)
{
    int obj = pool_pair_end(c, f); /* the tree's, when processes share it */
    if (obj < 0)
        obj = listen_again(c, f, rec);
    else
        *own = 0;
    return obj;
}

/* Whether a process other than number i has a socket with this inode. */
int in_other_image(const struct ctx_tree *t, uint32_t i, uint64_t ino)
{
    for (uint32_t j = 0; j < t->n; j++) {
        const struct ctx_image *o = &t->images[j];
        for (uint32_t k = 0; j != i && o->proc && k < o->proc->nfds; k++)
            if ((o->fds[k]->kind == CTX_FD_UNIX_PAIR || o->fds[k]->kind == CTX_FD_LISTEN) &&
                o->fds[k]->id.ino == ino)
                return 1;
    }
    return 0;
}

struct cr_pool_sock *pool_sock(struct cr_pool *pool, uint64_t ino)
{
    for (uint32_t q = 0; q < pool->nsocks; q++)
        if (pool->socks[q].ino == ino)
            return &pool->socks[q];
    return NULL;
}

/* Inherited by a child (a preforking server): bound once, for all. */
static void pool_add_listen(struct cr_pool_build *b, uint32_t i, uint32_t k,
                            const struct ctx_fd *f)
{
    if (!in_other_image(b->t, i, f->id.ino) || pool_sock(b->pool, f->id.ino))
        return;
    struct child lc = { .img = &b->t->images[i], .o = b->o, .status_fd = b->status_fd,
                        .high = b->low };
    int s = listen_again(&lc, f, k);
    b->pool->socks[b->pool->nsocks++] = (struct cr_pool_sock){ f->id.ino, 0, pool_fd(b->rep, s, b->low), 1 };
}

/* Saved and told apart here (add_socket): the pairs are unix_sock.c's, stdio ones
 * inherit.c's (CTX_FD_INHERIT). */
const struct cr_fd_ops cr_fd_socket = {
    .kind = CTX_FD_SOCKET_DEAD, .name = "socket", .scan = scan_sockets, .detect = detect_socket,
    .save = save_socket, .restore = dead_socket, .restore_nonblock = 1,
};

const struct cr_fd_ops cr_fd_listen = {
    .kind = CTX_FD_LISTEN, .name = "listen", .make = listen_again, .restore = restore_listen,
    .restore_nonblock = 1, .pool = pool_add_listen,
};
