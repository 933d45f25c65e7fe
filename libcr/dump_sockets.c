/* The dumper's sockets.  A unix socket whose peer is also in the process is saved
 * with the data queued to it (peeked, not consumed); a listening socket with its
 * address; stdio sockets become cr_restart's; any other connection leads outside and
 * cannot be saved alone: by policy it becomes a reset connection on the same fd
 * number at restart ("dead", the default) or the checkpoint fails naming it. */
#define _GNU_SOURCE
#include "dump.h"

#include <arpa/inet.h>
#include <dirent.h>
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
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "runtime.h"

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

static const char *type_name(int domain, int type)
{
    if (domain == AF_INET || domain == AF_INET6)
        return type == SOCK_STREAM ? "TCP" : type == SOCK_DGRAM ? "UDP" : "IP";
    if (domain == AF_UNIX)
        return type == SOCK_STREAM ? "unix stream" : type == SOCK_DGRAM ? "unix datagram" : "unix seqpacket";
    return domain == AF_NETLINK ? "netlink" : "other";
}

static struct ctx_fd *sock_record(struct dump *d, int fd, uint32_t kind, const char *text,
                                  size_t extra, const struct stat *st)
{
    struct ctx_fd *r = fd_record(d, fd, kind, text, extra);
    if (r)
        file_id_of(st, &r->id);
    return r;
}

int add_socket(struct dump *d, const struct sock_scan *ss, int fd, const struct stat *st,
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
    if ((domain == AF_UNIX && si && peer_ours) || tcp_inside) {
        /* both ends are ours: saved connected, with what is queued to this end */
        int queued = 0;
        ioctl(fd, FIONREAD, &queued);
        if (type != SOCK_STREAM && queued > 0)
            return fail(d, ENOTSUP, "fd %d is a %s socket with messages queued to it; this "
                        "version can only save queued data of stream sockets", fd,
                        type_name(domain, type));
        if ((size_t)queued > bufsize)
            return fail(d, E2BIG, "fd %d has %d bytes queued; at most %zu can be saved", fd,
                        queued, bufsize);
        ssize_t got = queued > 0 ? recv(fd, buf, (size_t)queued, MSG_PEEK | MSG_DONTWAIT) : 0;
        if (got < 0)
            got = 0;
        if (tcp_inside)
            snprintf(text, sizeof text, "TCP connection %s -> %s socket:[%llu] paired with "
                     "socket:[%llu] (back as a unix stream pair)", here, there,
                     (unsigned long long)st->st_ino, (unsigned long long)si->peer_ino);
        else
            snprintf(text, sizeof text, "%s socket:[%llu] paired with socket:[%llu]",
                     type_name(domain, type), (unsigned long long)st->st_ino,
                     (unsigned long long)si->peer_ino);
        struct ctx_fd *r = sock_record(d, fd, CTX_FD_UNIX_PAIR, text, (size_t)got, st);
        if (!r)
            return fail(d, E2BIG, "too much metadata");
        r->pos = si->peer_ino;
        r->flags = (uint32_t)type;
        memcpy((char *)(r + 1) + r->path_len, buf, (size_t)got);
        return 0;
    }
    if (listening && (domain == AF_INET || domain == AF_INET6 || domain == AF_UNIX)) {
        snprintf(text, sizeof text, "%s listening on %s", type_name(domain, type), here);
        struct ctx_fd *r = sock_record(d, fd, CTX_FD_LISTEN, text, slen, st);
        if (!r)
            return fail(d, E2BIG, "too much metadata");
        r->pos = (uint64_t)domain;
        r->flags = (uint32_t)type;
        memcpy((char *)(r + 1) + r->path_len, &self, slen);
        return 0;
    }
    if (stdio_source >= 0) { /* stdio: cr_restart's own */
        snprintf(text, sizeof text, "%s socket %s", type_name(domain, type), here);
        struct ctx_fd *r = sock_record(d, fd, CTX_FD_INHERIT, text, 0, st);
        if (!r)
            return fail(d, E2BIG, "too much metadata");
        r->source_fd = stdio_source;
        return 0;
    }
    if (connected)
        snprintf(text, sizeof text, "a %s connection %s -> %s", type_name(domain, type), here, there);
    else
        snprintf(text, sizeof text, "a %s socket %s", type_name(domain, type), here);
    if (d->sockets_refuse)
        return fail(d, ENOTSUP, "fd %d is %s, which leads outside the process; --sockets=refuse "
                    "was asked (the default restores it as a reset connection)", fd, text);
    return sock_record(d, fd, CTX_FD_SOCKET_DEAD, text, 0, st) ? 0 : fail(d, E2BIG, "too much metadata");
}

static int external_sockets(char *msg, size_t msglen);

/* --sockets=delay asks this before each try, while the application runs: the fds it
 * opens are taken inside a section (runtime.c). */
int cr_external_sockets(char *msg, size_t msglen)
{
    cr_fd_section_begin();
    int n = external_sockets(msg, msglen);
    cr_fd_section_end();
    return n;
}

static int external_sockets(char *msg, size_t msglen)
{
    struct sock_scan *ss = malloc(sizeof *ss);
    char *buf = malloc(NL_BUF);
    struct dump d;
    memset(&d, 0, sizeof d);
    d.msg = msg;
    d.msglen = msglen;
    int fds[1024], n = 0, found = 0;
    DIR *dir = opendir("/proc/self/fd");
    struct dirent *e;
    while (dir && (e = readdir(dir)) && n < 1024) {
        int fd = atoi(e->d_name);
        struct stat st;
        if (e->d_name[0] >= '0' && e->d_name[0] <= '9' && fd != dirfd(dir) && !cr_internal_fd(fd) &&
            fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode))
            fds[n++] = fd;
    }
    if (dir)
        closedir(dir);
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
        snprintf(msg, msglen, "fd %d is a %s %s %s%s%s", fds[i], type_name(domain, type),
                 connected ? "connection" : "socket", here, connected ? " -> " : "",
                 connected ? there : "");
        found = 1;
    }
    free(ss);
    free(buf);
    return found;
}

