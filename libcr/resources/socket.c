/* Sockets: the scan (sock_diag), each socket's record (a unix pair inside, or one whose
 * peer was closed: unix_sock.c; a TCP connection inside, or whose peer the process
 * closed: tcp_pair.c; one whose state is all in the process, listening,
 * unbound, bound or UDP: local_sock.c; stdio; else a connection to the outside, by
 * policy a reset socket at restart, the default, or a refusal), what the socket kinds
 * share (options, queues), and reset sockets and the listening ones of older files
 * made again. */
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
#include <linux/kcmp.h>
#include <dirent.h>
#include <sys/syscall.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "context_reader.h"

/* ---- dump ---- */


static struct sock_info *find_sock(struct sock_scan *ss, uint64_t ino)
{
    for (int i = 0; i < ss->n; i++)
        if (ss->socks[i].ino == ino)
            return &ss->socks[i];
    return NULL;
}

/* Sends a sock_diag dump request and gives each answer to `each`; -errno if the
 * kernel cannot be asked or answers with an error.  buf: SOCK_DIAG_BUF bytes. */
int sock_diag_dump(const void *req, size_t reqlen, char *buf,
                   void (*each)(const struct nlmsghdr *h, void *arg), void *arg)
{
    int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (nl < 0)
        return -errno;
    int rc = send(nl, req, reqlen, 0) == (ssize_t)reqlen ? 0 : -errno;
    for (int done = 0; rc == 0 && !done;) {
        ssize_t n = recv(nl, buf, SOCK_DIAG_BUF, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? -errno : -EIO;
            break;
        }
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
            /* an error is the kernel's refusal (ENOENT: no sock_diag handler for the
             * family, the unix_diag or inet_diag module not loaded), not an empty
             * answer: taken for one, every socket pair looked unconnected */
            if (h->nlmsg_type == NLMSG_ERROR && h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct nlmsgerr)) &&
                ((const struct nlmsgerr *)NLMSG_DATA(h))->error < 0)
                rc = ((const struct nlmsgerr *)NLMSG_DATA(h))->error;
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
        else if (a->rta_type == UNIX_DIAG_SHUTDOWN)
            si->shutdown = *(const uint8_t *)RTA_DATA(a);
        else if (a->rta_type == UNIX_DIAG_RQLEN && m->udiag_state != TCP_LISTEN)
            si->unread = ((const struct unix_diag_rqlen *)RTA_DATA(a))->udiag_wqueue;
        else if (a->rta_type == UNIX_DIAG_RQLEN) { /* a listening one's: backlog, queue */
            si->backlog = ((const struct unix_diag_rqlen *)RTA_DATA(a))->udiag_wqueue;
            si->waiting = ((const struct unix_diag_rqlen *)RTA_DATA(a))->udiag_rqueue;
        }
        else if (a->rta_type == UNIX_DIAG_VFS)
            si->vfs_ino = ((const struct unix_diag_vfs *)RTA_DATA(a))->udiag_vfs_ino;
}

/* sock_diag dump requests: every unix socket in `states` with what `show` asks for;
 * every inet socket of a family and protocol in `states` */
struct unix_diag_request {
    struct nlmsghdr nh;
    struct unix_diag_req req;
};
struct inet_diag_request {
    struct nlmsghdr nh;
    struct inet_diag_req_v2 req;
};

static struct unix_diag_request unix_diag_request(uint32_t states, uint32_t show)
{
    struct unix_diag_request msg;
    memset(&msg, 0, sizeof msg);
    msg.nh.nlmsg_len = sizeof msg;
    msg.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    msg.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    msg.req.sdiag_family = AF_UNIX;
    msg.req.udiag_states = states;
    msg.req.udiag_show = show;
    return msg;
}

static struct inet_diag_request inet_diag_request(int family, int protocol, uint32_t states)
{
    struct inet_diag_request msg;
    memset(&msg, 0, sizeof msg);
    msg.nh.nlmsg_len = sizeof msg;
    msg.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    msg.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    msg.req.sdiag_family = (uint8_t)family;
    msg.req.sdiag_protocol = (uint8_t)protocol;
    msg.req.idiag_states = states;
    return msg;
}

/* The peers of our unix sockets, their shutdown state and the inode of the file each
 * is bound to, from the kernel's sock_diag interface. */
static int unix_peers(struct dump *d, struct sock_scan *ss, char *buf)
{
    struct unix_diag_request msg = unix_diag_request(~0U, UDIAG_SHOW_PEER | UDIAG_SHOW_VFS | UDIAG_SHOW_RQLEN);
    int rc = sock_diag_dump(&msg, sizeof msg, buf, unix_peer_of, ss);
    return rc < 0 ? fail(d, -rc, rc == -ENOENT ? "asking sock_diag for the peers of unix sockets "
                         "(the kernel's unix_diag module is not loaded: modprobe unix_diag)"
                                              : "asking sock_diag for the peers of unix sockets") : 0;
}

struct unix_peer_query {
    uint64_t ino;
    int64_t peer;
};

static void unix_peer_one(const struct nlmsghdr *h, void *arg)
{
    struct unix_peer_query *q = arg;
    const struct unix_diag_msg *m = NLMSG_DATA(h);
    if (m->udiag_ino != q->ino)
        return;
    int alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof *m));
    for (const struct rtattr *a = (const struct rtattr *)(m + 1); RTA_OK(a, alen); a = RTA_NEXT(a, alen))
        if (a->rta_type == UNIX_DIAG_PEER) {
            uint32_t p;
            memcpy(&p, RTA_DATA(a), sizeof p);
            q->peer = p;
        }
}

int64_t unix_peer_inode(uint64_t ino, char *buf)
{
    struct unix_diag_request msg = unix_diag_request(1U << TCP_ESTABLISHED, UDIAG_SHOW_PEER);
    struct unix_peer_query q = { ino, 0 };
    return sock_diag_dump(&msg, sizeof msg, buf, unix_peer_one, &q) < 0 ? -1 : q.peer;
}

struct inet_shutdown_query {
    uint64_t ino;
    int shutdown;
};

static void inet_shutdown_of(const struct nlmsghdr *h, void *arg)
{
    struct inet_shutdown_query *q = arg;
    const struct inet_diag_msg *m = NLMSG_DATA(h);
    if (m->idiag_inode != q->ino)
        return;
    int alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof *m));
    for (const struct rtattr *a = (const struct rtattr *)(m + 1); RTA_OK(a, alen); a = RTA_NEXT(a, alen))
        if (a->rta_type == INET_DIAG_SHUTDOWN)
            q->shutdown = *(const uint8_t *)RTA_DATA(a);
}

int inet_dgram_shutdown(int family, int protocol, uint64_t ino, char *buf)
{
    struct inet_diag_request msg = inet_diag_request(family, protocol, ~0U);
    struct inet_shutdown_query q = { ino, 0 };
    return sock_diag_dump(&msg, sizeof msg, buf, inet_shutdown_of, &q) < 0 ? -1 : q.shutdown;
}

struct tcp_diag_query {
    uint16_t sport, dport;     /* the socket's own port, its peer's */
    const void *src, *dst;
    size_t alen;
    struct tcp_diag *out;
};

static void tcp_diag_of(const struct nlmsghdr *h, void *arg)
{
    struct tcp_diag_query *q = arg;
    const struct inet_diag_msg *m = NLMSG_DATA(h);
    if (m->id.idiag_sport != q->sport || m->id.idiag_dport != q->dport ||
        memcmp(m->id.idiag_src, q->src, q->alen) || memcmp(m->id.idiag_dst, q->dst, q->alen))
        return;
    struct tcp_diag *o = q->out;
    o->found = 1;
    o->ino = m->idiag_inode;
    o->state = m->idiag_state;
    o->rqueue = m->idiag_rqueue;
    o->wqueue = m->idiag_wqueue;
    o->shutdown = 0;
    int alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof *m));
    for (const struct rtattr *a = (const struct rtattr *)(m + 1); RTA_OK(a, alen); a = RTA_NEXT(a, alen))
        if (a->rta_type == INET_DIAG_SHUTDOWN)
            o->shutdown = *(const uint8_t *)RTA_DATA(a);
}

static int tcp_diag_one(const struct sockaddr_storage *self, const struct sockaddr_storage *peer,
                        char *buf, struct tcp_diag *out);

/* An IPv4 address as an IPv6 socket has it (::ffff:a.b.c.d), or back; 0 if it has none. */
static int other_family(const struct sockaddr_storage *a, struct sockaddr_storage *out)
{
    memset(out, 0, sizeof *out);
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const void *)a;
        struct sockaddr_in6 *o = (void *)out;
        o->sin6_family = AF_INET6;
        o->sin6_port = in->sin_port;
        o->sin6_addr.s6_addr[10] = o->sin6_addr.s6_addr[11] = 0xff;
        memcpy(&o->sin6_addr.s6_addr[12], &in->sin_addr, 4);
        return 1;
    }
    const struct sockaddr_in6 *in6 = (const void *)a;
    if (!IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
        return 0;
    struct sockaddr_in *o = (void *)out;
    o->sin_family = AF_INET;
    o->sin_port = in6->sin6_port;
    memcpy(&o->sin_addr, &in6->sin6_addr.s6_addr[12], 4);
    return 1;
}

int tcp_diag_find(const struct sockaddr_storage *self, const struct sockaddr_storage *peer, char *buf,
                  struct tcp_diag *out)
{
    int rc = tcp_diag_one(self, peer, buf, out);
    /* an IPv4 connection may have an IPv6 socket at one end (IPV6_V6ONLY off), which
     * sock_diag lists with the IPv6 ones */
    struct sockaddr_storage s2, p2;
    if (rc == 0 && !out->found && other_family(self, &s2) && other_family(peer, &p2))
        rc = tcp_diag_one(&s2, &p2, buf, out);
    return rc;
}

static int tcp_diag_one(const struct sockaddr_storage *self, const struct sockaddr_storage *peer,
                        char *buf, struct tcp_diag *out)
{
    struct inet_diag_request msg = inet_diag_request(self->ss_family, IPPROTO_TCP, ~0U);
    memset(out, 0, sizeof *out);
    struct tcp_diag_query q;
    if (self->ss_family == AF_INET) {
        const struct sockaddr_in *s = (const void *)self, *p = (const void *)peer;
        q = (struct tcp_diag_query){ s->sin_port, p->sin_port, &s->sin_addr, &p->sin_addr, 4, out };
    } else {
        const struct sockaddr_in6 *s = (const void *)self, *p = (const void *)peer;
        q = (struct tcp_diag_query){ s->sin6_port, p->sin6_port, &s->sin6_addr, &p->sin6_addr, 16, out };
    }
    /* first the kernel's lookup of this one connection (not a dump of every socket of
     * the host: an MPI node has many) */
    msg.nh.nlmsg_flags = NLM_F_REQUEST;
    msg.req.id.idiag_sport = q.sport;
    msg.req.id.idiag_dport = q.dport;
    memcpy(msg.req.id.idiag_src, q.src, q.alen);
    memcpy(msg.req.id.idiag_dst, q.dst, q.alen);
    msg.req.id.idiag_if = 0;
    msg.req.id.idiag_cookie[0] = msg.req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
    int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (nl >= 0) {
        ssize_t n = send(nl, &msg, sizeof msg, 0) == (ssize_t)sizeof msg ? 0 : -1;
        while (n == 0 && (n = recv(nl, buf, SOCK_DIAG_BUF, 0)) < 0 && errno == EINTR)
            n = 0;
        close(nl);
        const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
        if (n > 0 && NLMSG_OK(h, (size_t)n)) {
            if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY) {
                tcp_diag_of(h, &q);
                return 0;
            }
            const struct nlmsgerr *e = NLMSG_DATA(h);
            if (h->nlmsg_type == NLMSG_ERROR && e->error == -ENOENT)
                return 0; /* none */
        }
    }
    msg.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP; /* else every one, as older kernels */
    memset(&msg.req.id, 0, sizeof msg.req.id);
    return sock_diag_dump(&msg, sizeof msg, buf, tcp_diag_of, &q);
}

/* The inode of the TCP socket at the other end of a connection, when it is on this
 * machine (loopback), from sock_diag; 0 if none (or one not accepted yet: *seen says
 * whether there is an established one, *rqueue how much it has to read). */
static uint64_t tcp_peer_inode(const struct sockaddr_storage *self, const struct sockaddr_storage *peer,
                               char *buf, int *seen, uint32_t *rqueue)
{
    struct tcp_diag pd;
    int rc = tcp_diag_find(peer, self, buf, &pd);
    /* established without an inode: not accepted yet (one accepted, then closed, is an
     * orphan that is closing) */
    *seen = rc == 0 && pd.found && pd.state == TCP_ESTABLISHED && !pd.ino;
    *rqueue = pd.rqueue;
    return rc < 0 ? 0 : pd.ino;
}

struct tcp_listener_query {
    uint64_t ino;
    int backlog, waiting;
};

static void tcp_listener_of(const struct nlmsghdr *h, void *arg)
{
    struct tcp_listener_query *q = arg;
    const struct inet_diag_msg *m = NLMSG_DATA(h);
    if (m->idiag_inode == q->ino) { /* a listening socket's: its backlog and queue */
        q->backlog = (int)m->idiag_wqueue;
        q->waiting = (int)m->idiag_rqueue;
    }
}

int tcp_listen_backlog(int family, uint64_t ino, char *buf, int *waiting)
{
    struct inet_diag_request msg = inet_diag_request(family, IPPROTO_TCP, 1U << TCP_LISTEN);
    struct tcp_listener_query q = { ino, -1, 0 };
    int rc = sock_diag_dump(&msg, sizeof msg, buf, tcp_listener_of, &q);
    *waiting = q.waiting;
    return rc < 0 ? -1 : q.backlog;
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
        ss->socks[ss->n++] = (struct sock_info){ st.st_ino, 0, domain, fds[i], 0, 0, 0, -1, 0 };
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

/* ---- what the socket kinds share: options, queues ---- */

/* The options saved when a program changed them, set again in this order: the usual
 * SOL_SOCKET, IP, IPv6 and TCP ones a process may set without privilege (IP_TRANSPARENT
 * and SO_MARK need it: setting them again fails the restart, naming them). */
#ifndef UDPLITE_SEND_CSCOV /* the kernel's include/net/udplite.h; no uapi header has them */
#define UDPLITE_SEND_CSCOV 10
#define UDPLITE_RECV_CSCOV 11
#endif
static const struct sockopt_name {
    int level, name;
    const char *what;
} sockopts[] = {
    { SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR" }, { SOL_SOCKET, SO_REUSEPORT, "SO_REUSEPORT" },
    { SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE" }, { SOL_SOCKET, SO_BROADCAST, "SO_BROADCAST" },
    { SOL_SOCKET, SO_LINGER, "SO_LINGER" }, { SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF" },
    { SOL_SOCKET, SO_SNDBUF, "SO_SNDBUF" }, { SOL_SOCKET, SO_PASSCRED, "SO_PASSCRED" },
    { SOL_SOCKET, SO_OOBINLINE, "SO_OOBINLINE" }, { SOL_SOCKET, SO_RCVLOWAT, "SO_RCVLOWAT" },
    { SOL_SOCKET, SO_TIMESTAMP, "SO_TIMESTAMP" },
    { SOL_SOCKET, SO_TIMESTAMPNS, "SO_TIMESTAMPNS" }, { SOL_SOCKET, SO_RCVTIMEO, "SO_RCVTIMEO" },
    { SOL_SOCKET, SO_SNDTIMEO, "SO_SNDTIMEO" }, { SOL_SOCKET, SO_DONTROUTE, "SO_DONTROUTE" },
    { SOL_SOCKET, SO_PASSSEC, "SO_PASSSEC" }, { SOL_SOCKET, SO_PEEK_OFF, "SO_PEEK_OFF" },
    { SOL_SOCKET, SO_MARK, "SO_MARK" }, { SOL_SOCKET, SO_BINDTODEVICE, "SO_BINDTODEVICE" },
    { SOL_SOCKET, SO_RXQ_OVFL, "SO_RXQ_OVFL" }, { SOL_SOCKET, SO_SELECT_ERR_QUEUE, "SO_SELECT_ERR_QUEUE" },
    { SOL_SOCKET, SO_ZEROCOPY, "SO_ZEROCOPY" },
    { IPPROTO_IP, IP_TOS, "IP_TOS" }, { IPPROTO_IP, IP_TTL, "IP_TTL" },
    { IPPROTO_IP, IP_FREEBIND, "IP_FREEBIND" }, { IPPROTO_IP, IP_TRANSPARENT, "IP_TRANSPARENT" },
    { IPPROTO_IP, IP_PKTINFO, "IP_PKTINFO" }, { IPPROTO_IP, IP_RECVTTL, "IP_RECVTTL" },
    { IPPROTO_IP, IP_RECVTOS, "IP_RECVTOS" }, { IPPROTO_IP, IP_RECVERR, "IP_RECVERR" },
    { IPPROTO_IP, IP_MTU_DISCOVER, "IP_MTU_DISCOVER" }, { IPPROTO_IP, IP_MULTICAST_TTL, "IP_MULTICAST_TTL" },
    { IPPROTO_IP, IP_MULTICAST_LOOP, "IP_MULTICAST_LOOP" },
    { IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, "IP_BIND_ADDRESS_NO_PORT" },
    { IPPROTO_IP, IP_MULTICAST_IF, "IP_MULTICAST_IF" }, { IPPROTO_IP, IP_MULTICAST_ALL, "IP_MULTICAST_ALL" },
    { IPPROTO_IP, IP_RECVORIGDSTADDR, "IP_RECVORIGDSTADDR" }, { IPPROTO_IP, IP_NODEFRAG, "IP_NODEFRAG" },
    { IPPROTO_IPV6, IPV6_V6ONLY, "IPV6_V6ONLY" }, { IPPROTO_IPV6, IPV6_UNICAST_HOPS, "IPV6_UNICAST_HOPS" },
    { IPPROTO_IPV6, IPV6_MULTICAST_HOPS, "IPV6_MULTICAST_HOPS" },
    { IPPROTO_IPV6, IPV6_MULTICAST_LOOP, "IPV6_MULTICAST_LOOP" },
    { IPPROTO_IPV6, IPV6_RECVPKTINFO, "IPV6_RECVPKTINFO" }, { IPPROTO_IPV6, IPV6_TCLASS, "IPV6_TCLASS" },
    { IPPROTO_IPV6, IPV6_RECVTCLASS, "IPV6_RECVTCLASS" }, { IPPROTO_IPV6, IPV6_FREEBIND, "IPV6_FREEBIND" },
    { IPPROTO_IPV6, IPV6_TRANSPARENT, "IPV6_TRANSPARENT" }, { IPPROTO_IPV6, IPV6_RECVERR, "IPV6_RECVERR" },
    { IPPROTO_IPV6, IPV6_MTU_DISCOVER, "IPV6_MTU_DISCOVER" },
    { IPPROTO_IPV6, IPV6_MULTICAST_IF, "IPV6_MULTICAST_IF" },
    { IPPROTO_IPV6, IPV6_RECVHOPLIMIT, "IPV6_RECVHOPLIMIT" }, { IPPROTO_IPV6, IPV6_DONTFRAG, "IPV6_DONTFRAG" },
    { IPPROTO_IPV6, IPV6_AUTOFLOWLABEL, "IPV6_AUTOFLOWLABEL" },
    { IPPROTO_IPV6, IPV6_RECVORIGDSTADDR, "IPV6_RECVORIGDSTADDR" },
    { IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY" }, { IPPROTO_TCP, TCP_KEEPIDLE, "TCP_KEEPIDLE" },
    { IPPROTO_TCP, TCP_KEEPINTVL, "TCP_KEEPINTVL" }, { IPPROTO_TCP, TCP_KEEPCNT, "TCP_KEEPCNT" },
    { IPPROTO_TCP, TCP_CORK, "TCP_CORK" }, { IPPROTO_TCP, TCP_MAXSEG, "TCP_MAXSEG" },
    { IPPROTO_TCP, TCP_DEFER_ACCEPT, "TCP_DEFER_ACCEPT" }, { IPPROTO_TCP, TCP_USER_TIMEOUT, "TCP_USER_TIMEOUT" },
    { IPPROTO_TCP, TCP_SYNCNT, "TCP_SYNCNT" }, { IPPROTO_TCP, TCP_LINGER2, "TCP_LINGER2" },
    { IPPROTO_TCP, TCP_WINDOW_CLAMP, "TCP_WINDOW_CLAMP" }, { IPPROTO_TCP, TCP_NOTSENT_LOWAT, "TCP_NOTSENT_LOWAT" },
    { IPPROTO_TCP, TCP_FASTOPEN, "TCP_FASTOPEN" }, { IPPROTO_TCP, TCP_CONGESTION, "TCP_CONGESTION" },
    { IPPROTO_UDP, UDP_CORK, "UDP_CORK" }, { IPPROTO_UDP, UDP_SEGMENT, "UDP_SEGMENT" },
    { IPPROTO_UDP, UDP_GRO, "UDP_GRO" },
    { IPPROTO_TCP, TCP_THIN_LINEAR_TIMEOUTS, "TCP_THIN_LINEAR_TIMEOUTS" },
    { IPPROTO_UDPLITE, UDPLITE_SEND_CSCOV, "UDPLITE_SEND_CSCOV" },
    { IPPROTO_UDPLITE, UDPLITE_RECV_CSCOV, "UDPLITE_RECV_CSCOV" },
    { SOL_SOCKET, SO_PRIORITY, "SO_PRIORITY" }, /* after IP_TOS, which sets it too */
};
#define NSOCKOPTS (sizeof sockopts / sizeof sockopts[0])

const char *describe_sockopt(int level, int name)
{
    for (size_t i = 0; i < NSOCKOPTS; i++)
        if (sockopts[i].level == level && sockopts[i].name == name)
            return sockopts[i].what;
    return "an unknown socket option";
}

static int sockopt_applies(int level, int name, const struct ctx_socket *so)
{
    /* TCP takes no multicast option; an accepted socket says its SYN's TTL as one */
    if (so->type == SOCK_STREAM && level == IPPROTO_IP &&
        (name == IP_MULTICAST_TTL || name == IP_MULTICAST_LOOP || name == IP_MULTICAST_IF ||
         name == IP_MULTICAST_ALL))
        return 0;
    if (so->type == SOCK_STREAM && level == IPPROTO_IPV6 &&
        (name == IPV6_MULTICAST_HOPS || name == IPV6_MULTICAST_LOOP || name == IPV6_MULTICAST_IF))
        return 0;
    return level == SOL_SOCKET || (level == IPPROTO_IP && so->domain == AF_INET) ||
           (level == IPPROTO_IPV6 && so->domain == AF_INET6) ||
           (level == IPPROTO_TCP && so->domain != AF_UNIX && so->type == SOCK_STREAM) ||
           (level == IPPROTO_UDPLITE && so->protocol == IPPROTO_UDPLITE) ||
           (level == IPPROTO_UDP && so->domain != AF_UNIX && so->type == SOCK_DGRAM &&
            (so->protocol == IPPROTO_UDP || so->protocol == IPPROTO_UDPLITE));
}

#ifndef SO_BUF_LOCK
#define SO_BUF_LOCK 72
#endif
#define SNDBUF_LOCKED 1 /* SO_BUF_LOCK's bits: SOCK_SNDBUF_LOCK, SOCK_RCVBUF_LOCK */
#define RCVBUF_LOCKED 2

/* What the kernel tunes itself on a connected TCP socket (the MSS and window in use;
 * an accepted one's IP_MULTICAST_TTL, its SYN's TTL, which TCP refuses to be set): not
 * told apart from the program's own choices, so not saved.  Its buffers too, unless
 * the program set them: SO_BUF_LOCK (Linux 5.14) says which it set, which the kernel
 * then leaves alone (locks: -1 when it cannot be asked). */
static int tuned_when_connected(int level, int name, int locks)
{
    if (level == SOL_SOCKET && name == SO_RCVBUF)
        return locks < 0 || !(locks & RCVBUF_LOCKED);
    if (level == SOL_SOCKET && name == SO_SNDBUF)
        return locks < 0 || !(locks & SNDBUF_LOCKED);
    return (level == IPPROTO_TCP && (name == TCP_MAXSEG || name == TCP_WINDOW_CLAMP)) ||
           (level == IPPROTO_IP && name == IP_MULTICAST_TTL);
}

int sock_save_opts(int fd, struct ctx_socket *so)
{
    /* what a new socket of its kind says: a program's own choices are what differs */
    int fresh = socket(so->domain, so->type | SOCK_CLOEXEC, so->protocol);
    struct sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    int tcp_connected = so->domain != AF_UNIX && so->type == SOCK_STREAM &&
                        (getpeername(fd, (struct sockaddr *)&peer, &plen) == 0 ||
                         tcp_was_connected(fd));
    int locks = -1;
    socklen_t llen = sizeof locks;
    if (tcp_connected && getsockopt(fd, SOL_SOCKET, SO_BUF_LOCK, &locks, &llen) < 0)
        locks = -1;
    so->nopts = 0;
    for (size_t i = 0; fresh >= 0 && i < NSOCKOPTS; i++) {
        if (!sockopt_applies(sockopts[i].level, sockopts[i].name, so) ||
            (tcp_connected && tuned_when_connected(sockopts[i].level, sockopts[i].name, locks)))
            continue;
        struct ctx_sockopt *o = &so->opts[so->nopts];
        unsigned char base[sizeof o->val];
        socklen_t len = sizeof o->val, blen = sizeof base;
        memset(o, 0, sizeof *o);
        memset(base, 0, sizeof base);
        if (getsockopt(fd, sockopts[i].level, sockopts[i].name, o->val, &len) < 0 || len == 0 ||
            getsockopt(fresh, sockopts[i].level, sockopts[i].name, base, &blen) < 0 ||
            /* a connected TCP socket's buffer the program set is kept (and locked) even
             * at a new socket's size */
            (blen == len && !memcmp(base, o->val, len) &&
             !(tcp_connected && sockopts[i].level == SOL_SOCKET &&
               (sockopts[i].name == SO_RCVBUF || sockopts[i].name == SO_SNDBUF))))
            continue;
        if (so->nopts == CTX_SOCKOPT_MAX) {
            close(fresh);
            return -1;
        }
        o->level = sockopts[i].level;
        o->name = sockopts[i].name;
        o->len = len;
        so->nopts++;
    }
    if (fresh >= 0)
        close(fresh);
    return 0;
}

void sock_apply_opts(struct child *c, int s, const struct ctx_fd *f, const struct ctx_socket *so)
{
    for (uint32_t i = 0; i < so->nopts; i++) {
        const struct ctx_sockopt *o = &so->opts[i];
        unsigned char val[sizeof o->val];
        memcpy(val, o->val, sizeof val);
        int want = 0;
        if (o->level == SOL_SOCKET && (o->name == SO_RCVBUF || o->name == SO_SNDBUF) && o->len == sizeof want) {
            memcpy(&want, val, sizeof want);
            int half = want / 2; /* the kernel doubles what it is given */
            memcpy(val, &half, sizeof half);
        }
        if (setsockopt(s, o->level, o->name, val, o->len) < 0)
            child_fail(c, errno, "cannot set %s again on the socket of fd %d (%s): %s%s",
                       describe_sockopt(o->level, o->name), f->fd, (const char *)(f + 1),
                       strerror(errno), errno == EPERM ? " (it needs a privilege this restart "
                       "does not have)" : "");
        int got = 0;
        socklen_t len = sizeof got;
        if (want && (getsockopt(s, o->level, o->name, &got, &len) < 0 || got != want))
            child_fail(c, ENOBUFS, "cannot set %s of fd %d back to %d: the kernel gives %d "
                       "(its limit net.core.%s_max is lower here)", describe_sockopt(o->level, o->name),
                       f->fd, want, got, o->name == SO_RCVBUF ? "rmem" : "wmem");
    }
}

const unsigned char *sock_state(const struct ctx_fd *f, struct ctx_socket *so)
{
    const unsigned char *x = (const unsigned char *)(f + 1) + f->path_len;
    memcpy(so, x, sizeof *so);
    return x + sizeof *so;
}

/* The fd of the process that has the same open file description as `copy` (one of
 * the copies[] a peek gave), -1 if none (or kcmp is not there to tell). */
static int same_open_file(int copy, const int *copies, int ncopies)
{
    int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    char ents[4096];
    int found = -1;
    pid_t self = getpid();
    for (long n; dir >= 0 && found < 0 && (n = syscall(SYS_getdents64, dir, ents, sizeof ents)) > 0;) {
        for (long off = 0; off < n && found < 0;) {
            const struct dirent64 *e = (const void *)(ents + off);
            off += e->d_reclen;
            int fd = atoi(e->d_name), mine = fd == dir || e->d_name[0] == '.';
            for (int k = 0; k < ncopies; k++)
                mine |= fd == copies[k];
            if (!mine && syscall(SYS_kcmp, self, self, KCMP_FILE, fd, copy) == 0)
                found = fd;
        }
    }
    if (dir >= 0)
        close(dir);
    return found;
}

size_t sock_file_size(const struct ctx_sock_file *sf)
{
    return sizeof *sf + sf->path_len + ((sf->flags & CTX_SOCK_FILE_CONTENTS) ? (size_t)sf->id.size : 0);
}

/* The contents of a deleted file in flight (copy: a received fd of it, of any access
 * mode), size bytes into out: 0, or -errno. */
static int read_in_flight(int copy, char *out, size_t size)
{
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", copy);
    int r = open(self, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (r < 0)
        return -errno;
    size_t got = 0;
    while (got < size) {
        ssize_t n = pread(r, out + got, size - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO; /* (shorter than its size said: changed meanwhile) */
            close(r);
            return -e;
        }
        got += (size_t)n;
    }
    close(r);
    return 0;
}

ssize_t save_fd_in_flight(struct dump *d, int sock, const char *what, int copy, const int *copies,
                          int ncopies, char *out, size_t room)
{
    struct ctx_sock_file sf;
    struct stat st;
    char path[CTX_PATH_MAX];
    ssize_t n = fd_path(copy, path, sizeof path, &st);
    if (n < 0)
        return fail(d, errno, "fd %d (%s): cannot tell the file descriptor in flight to it", sock, what);
    /* one the process still has an fd of (any kind: a pipe end, a socket) is sent again
     * as that fd; else it is opened again, which a regular file with its path can, or
     * made again with its contents when it was deleted */
    int same = same_open_file(copy, copies, ncopies);
    int deleted = same < 0 && S_ISREG(st.st_mode) && path[0] == '/' && st.st_nlink == 0;
    if (same < 0 && (!S_ISREG(st.st_mode) || path[0] != '/'))
        return fail(d, ENOTSUP, "fd %d (%s) has a file descriptor in flight (SCM_RIGHTS) to %s, "
                    "which the process has no other fd of: this version sends again only regular "
                    "files (with their path, or deleted: their contents saved), or what the "
                    "process still has open; let the program receive it before the checkpoint",
                    sock, what, path);
    if (deleted && (uint64_t)st.st_size > CTX_SOCK_FILE_CONTENTS_MAX)
        return fail(d, E2BIG, "fd %d (%s) has a deleted file in flight (SCM_RIGHTS), %s, of %lld "
                    "bytes: more than the %u saved of one; let the program receive it before the "
                    "checkpoint", sock, what, path, (long long)st.st_size, CTX_SOCK_FILE_CONTENTS_MAX);
    size_t contents = deleted ? (size_t)st.st_size : 0;
    if (sizeof sf + (size_t)n + 1 + contents > room)
        return fail(d, E2BIG, "fd %d (%s): too much is queued to it to be saved", sock, what);
    memset(&sf, 0, sizeof sf);
    sf.open_flags = (uint32_t)fcntl(copy, F_GETFL);
    sf.same_as_fd = same;
    sf.pos = (uint64_t)lseek(copy, 0, SEEK_CUR);
    file_id_of(&st, &sf.id);
    sf.path_len = (uint32_t)n + 1;
    sf.flags = deleted ? CTX_SOCK_FILE_CONTENTS : 0;
    if (deleted) {
        sf.id.size = (uint64_t)contents;
        int rc = read_in_flight(copy, out + sizeof sf + sf.path_len, contents);
        if (rc < 0)
            return fail(d, -rc, "fd %d (%s): cannot read the deleted file in flight to it, %s, to "
                        "save it", sock, what, path);
    }
    memcpy(out, &sf, sizeof sf);
    memcpy(out + sizeof sf, path, (size_t)n + 1);
    return (ssize_t)sock_file_size(&sf);
}

int shared_in_tree(const struct dump *d, int fd)
{
    struct stat st;
    int n = 0;
    for (uint32_t i = 0; d->tree && fstat(fd, &st) == 0 && i < d->tree->nsocks; i++)
        n += d->tree->socks[i] == st.st_ino;
    return n > 1;
}

/* One peek (past the last, SO_PEEK_OFF) of up to len bytes into to; the fds in flight
 * with it in fds[] (*nfds, at most CTX_SOCK_FILES_MAX; copies the caller closes), its
 * sender in sa.  Bytes, or -1 (errno). */
static ssize_t peek_at(int fd, int type, char *to, size_t len, struct sockaddr_storage *sa,
                       socklen_t *salen, int *fds, int *nfds, struct ucred *cred, int *flags)
{
    union {
        struct cmsghdr h;
        /* and room for what else comes with a datagram (IP_PKTINFO, timestamps...) */
        char b[CMSG_SPACE(sizeof(int) * CTX_SOCK_FILES_MAX) + CMSG_SPACE(sizeof(struct ucred)) + 512];
    } ctl;
    struct iovec iov = { to, len };
    struct msghdr mh = { .msg_name = sa, .msg_namelen = sizeof *sa, .msg_iov = &iov,
                         .msg_iovlen = 1, .msg_control = &ctl, .msg_controllen = sizeof ctl };
    memset(sa, 0, sizeof *sa);
    /* MSG_TRUNC: a datagram's whole length (for TCP it would discard the bytes) */
    ssize_t n;
    do
        n = recvmsg(fd, &mh, MSG_PEEK | MSG_DONTWAIT | (type == SOCK_STREAM ? 0 : MSG_TRUNC));
    while (n < 0 && errno == EINTR);
    *nfds = 0;
    cred->pid = 0;
    for (struct cmsghdr *h = n < 0 ? NULL : CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h)) {
        if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS)
            for (size_t k = 0; k < (h->cmsg_len - CMSG_LEN(0)) / sizeof(int); k++) {
                int copy;
                memcpy(&copy, CMSG_DATA(h) + k * sizeof(int), sizeof copy);
                if (*nfds < CTX_SOCK_FILES_MAX)
                    fds[(*nfds)++] = copy;
                else { /* more than a message can hold: said as for a truncated one */
                    close(copy);
                    mh.msg_flags |= MSG_CTRUNC;
                }
            }
        else if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_CREDENTIALS)
            memcpy(cred, CMSG_DATA(h), sizeof *cred);
    }
    *salen = mh.msg_namelen;
    *flags = mh.msg_flags;
    return n;
}

static void close_all(const int *fds, int n)
{
    for (int k = 0; k < n; k++)
        close(fds[k]);
}

/* A piece of what is queued (len bytes at src, inside buf past used) put at used: on
 * the last message (a stream's bytes, *last its header) or as a new one. */
static size_t put_piece(char *buf, size_t used, ssize_t *last, const char *src, size_t len, int append,
                        int from_fd, uint32_t *nmsgs)
{
    struct ctx_sock_msg h = { (uint32_t)len, from_fd, 0, 0 };
    if (append && *last >= 0) {
        memmove(buf + used, src, len);
        memcpy(&h, buf + *last, sizeof h);
        h.len += (uint32_t)len;
        memcpy(buf + *last, &h, sizeof h);
        return used + len;
    }
    memmove(buf + used + sizeof h, src, len);
    memcpy(buf + used, &h, sizeof h);
    *last = (ssize_t)used;
    (*nmsgs)++;
    return used + sizeof h + len;
}

ssize_t sock_peek_queue(struct dump *d, int fd, const char *what, int type, int rcv_shut,
                        int files_ok, char *buf, size_t cap,
                        uint32_t *nmsgs, int (*from)(void *arg, const struct sockaddr *a, socklen_t alen),
                        void *arg)
{
    /* SO_PEEK_OFF: each peek goes past the last, whole datagrams at a time; the
     * program's own offset is put back */
    int old_off = -1, zero = 0;
    socklen_t olen = sizeof old_off;
    char urgent;
    if (type == SOCK_STREAM && recv(fd, &urgent, 1, MSG_OOB | MSG_PEEK | MSG_DONTWAIT) == 1)
        return fail(d, ENOTSUP, "fd %d (%s) has urgent data (MSG_OOB) queued to it, which this "
                    "version cannot send again out of band; let the program read it before the "
                    "checkpoint", fd, what); /* peeked, it would come back inline */
    getsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &old_off, &olen);
    /* without it (TCP before Linux 6.9; a socket other processes of the tree have,
     * which they peek at the same time), a stream's bytes come in one peek, and a
     * message socket's queue only when it holds one message */
    int shared = shared_in_tree(d, fd);
    int one_peek = shared || setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof zero) < 0;
    if (one_peek && type != SOCK_STREAM && !shared)
        return fail(d, errno, "fd %d (%s): cannot peek at what is queued to it (SO_PEEK_OFF)", fd, what);
    size_t used = 0;
    ssize_t rc = 0, last = -1;  /* last: the header a stream's next bytes go on */
    *nmsgs = 0;
    for (;;) {
        const size_t hdr = sizeof(struct ctx_sock_msg);
        size_t room = cap - used > 2 * hdr ? cap - used - 2 * hdr : 0;
        char *at = buf + used + 2 * hdr; /* room for the headers of two pieces */
        struct sockaddr_storage sa;
        socklen_t salen;
        int fds[CTX_SOCK_FILES_MAX], nfds, flags;
        struct ucred cred;
        if (type == SOCK_STREAM && !room) { /* full: is there more? */
            char more;
            if (recv(fd, &more, 1, MSG_PEEK | MSG_DONTWAIT) > 0)
                rc = fail(d, E2BIG, "fd %d (%s): more is queued to it than the %zu bytes that can "
                          "be saved", fd, what, cap);
            break;
        }
        ssize_t n = peek_at(fd, type, at, room, &sa, &salen, fds, &nfds, &cred, &flags);
        if (n < 0 && errno == EAGAIN)
            break;
        if (n < 0) {
            rc = fail(d, errno, "fd %d (%s): cannot peek at what is queued to it", fd, what);
            break;
        }
        /* the process sends it again itself, so only its own credentials can come
         * back: with its old pid, which a restart gives it (a tree always; a process
         * alone in place or in a pid namespace, cr_restart's choice for such an image:
         * CTX_SOCK_MSG_OWN_CREDS).  Another process's pid or ids cannot be sent without
         * CAP_SYS_ADMIN (and CAP_SETUID, CAP_SETGID) over it.  The ptrace dumper's
         * helper peeks for the stopped process (d->remote). */
        pid_t self = d->remote ? (pid_t)d->proc->pid : getpid();
        uid_t uid = d->remote ? (uid_t)d->proc->uid : getuid();
        gid_t gid = d->remote ? (gid_t)d->proc->gid : getgid();
        int own_creds = cred.pid == self && cred.uid == uid && cred.gid == gid;
        if (cred.pid && !own_creds)
            rc = fail(d, ENOTSUP, "fd %d (%s) has SO_PASSCRED and a message queued with "
                      "credentials (SCM_CREDENTIALS: pid %d, uid %u, gid %u) that are not the "
                      "process's own (pid %d, uid %u, gid %u): a restart sends it again from the "
                      "process, and Linux lets only CAP_SYS_ADMIN (with CAP_SETUID, CAP_SETGID) "
                      "send another's; let the program receive it before the checkpoint", fd,
                      what, (int)cred.pid, (unsigned)cred.uid, (unsigned)cred.gid, (int)self,
                      (unsigned)uid, (unsigned)gid);
        else if (cred.pid && !files_ok)
            rc = fail(d, ENOTSUP, "fd %d (%s) has SO_PASSCRED and a message queued with the "
                      "process's credentials (SCM_CREDENTIALS), which this version sends again "
                      "only between two ends of a socket pair the process has alone; let the "
                      "program receive it before the checkpoint", fd, what);
        else if (flags & MSG_CTRUNC)
            rc = fail(d, ENOTSUP, "fd %d (%s): a message queued to it carries more file "
                      "descriptors or ancillary data than can be saved", fd, what);
        else if ((size_t)n > room)
            rc = fail(d, E2BIG, "fd %d (%s): more is queued to it than the %zu bytes that can be "
                      "saved", fd, what, cap);
        else if (nfds && !files_ok)
            rc = fail(d, ENOTSUP, "fd %d (%s) has a file descriptor in flight (SCM_RIGHTS): this "
                      "version sends one again only between the two ends of a socket pair that "
                      "one process has alone; let the program receive it first", fd, what);
        if (rc < 0) {
            close_all(fds, nfds);
            break;
        }
        if (n == 0 && (type == SOCK_STREAM || rcv_shut))
            break; /* EOF (a datagram socket shut for reading says 0 when it is empty) */
        int from_fd = -1;
        if (from && (from_fd = from(arg, (const struct sockaddr *)&sa, salen)) == SOCK_FROM_STEP)
            from_fd = -1; /* another task's: the caller keeps its address */
        else if (from && from_fd < 0) {
            close_all(fds, nfds);
            rc = from_fd;
            break;
        }
        /* a stream's peek ends with the piece its fds came with, glued to the bytes
         * before it: where it starts cannot be seen (the kernel gives a peek the fds of
         * the next piece with fds, however few bytes it asks for), but a piece of one
         * byte is itself */
        if (type == SOCK_STREAM && nfds && n > 1) {
            close_all(fds, nfds);
            rc = fail(d, ENOTSUP, "fd %d (%s) has a file descriptor in flight (SCM_RIGHTS) with "
                      "a piece of a stream glued to other bytes: where it comes cannot be seen "
                      "without reading them; let the program receive it before the checkpoint",
                      fd, what);
            break;
        }
        size_t plain = type == SOCK_STREAM && !nfds ? (size_t)n : 0;
        if (plain)
            used = put_piece(buf, used, &last, at, plain, 1, from_fd, nmsgs);
        if (plain < (size_t)n || type != SOCK_STREAM) {
            used = put_piece(buf, used, &last, at + plain, (size_t)n - plain, 0, from_fd, nmsgs);
            struct ctx_sock_msg h;
            memcpy(&h, buf + last, sizeof h);
            for (int k = 0; k < nfds && rc >= 0; k++) {
                ssize_t w = save_fd_in_flight(d, fd, what, fds[k], fds, nfds, buf + used, cap - used);
                if (w < 0)
                    rc = w;
                else
                    used += (size_t)w, h.nfiles++;
            }
            memcpy(buf + last, &h, sizeof h);
        }
        if (cred.pid && last >= 0) { /* (own ones: the others were refused above) */
            struct ctx_sock_msg h;
            memcpy(&h, buf + last, sizeof h);
            h.flags |= CTX_SOCK_MSG_OWN_CREDS;
            memcpy(buf + last, &h, sizeof h);
        }
        if (nfds || type != SOCK_STREAM)
            last = -1; /* the bytes after a piece with fds are a piece of their own */
        close_all(fds, nfds);
        if (rc < 0)
            break;
        int queued = 0;
        if (one_peek && type == SOCK_STREAM && ioctl(fd, FIONREAD, &queued) == 0 && queued > n)
            rc = fail(d, E2BIG, "fd %d (%s) has %d bytes queued; at most %zu can be saved", fd,
                      what, queued, cap);
        if (one_peek && type != SOCK_STREAM &&
            (type == SOCK_DGRAM || ioctl(fd, FIONREAD, &queued) < 0 || queued > n))
            rc = fail(d, ENOTSUP, "fd %d (%s) is shared by processes of the tree and has %s "
                      "queued: they cannot be saved one by one while the others look at them; let "
                      "the program read them before the checkpoint", fd, what,
                      type == SOCK_DGRAM ? "datagrams" : "several messages");
        if (one_peek)
            break;
    }
    if (!shared)
        setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &old_off, sizeof old_off);
    return rc < 0 ? rc : (ssize_t)used;
}

int backlog_clients(const struct sock_scan *ss, int listener, char *buf)
{
    int n = 0;
    for (int i = 0; i < ss->n; i++) {
        const struct sock_info *si = &ss->socks[i];
        int type = 0, listening = 0;
        socklen_t len = sizeof type, llen = sizeof listening;
        struct sockaddr_storage self, peer;
        socklen_t slen = sizeof self, plen = sizeof peer;
        if (getsockopt(si->fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type == SOCK_DGRAM ||
            getsockopt(si->fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &llen) < 0 || listening ||
            getsockname(si->fd, (struct sockaddr *)&self, &slen) < 0 ||
            getpeername(si->fd, (struct sockaddr *)&peer, &plen) < 0 ||
            backlog_listener(ss, &peer, plen) != listener)
            continue;
        int seen = 0;
        uint32_t unread;
        if (si->domain == AF_UNIX ? !si->peer_ino && !si->shutdown
                                  : (tcp_peer_inode(&self, &peer, buf, &seen, &unread), seen))
            n++;
    }
    return n;
}

static int add_socket(struct dump *d, const struct fd_scan *s, int fd, const struct stat *st,
                      int stdio_source, char *buf, size_t bufsize)
{
    const struct sock_scan *ss = &s->socks;
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
    int peer_seen = 0;
    uint32_t peer_unread = 0;  /* bytes a connection not accepted yet was sent */
    if ((domain == AF_INET || domain == AF_INET6) && type == SOCK_STREAM && !listening) {
        /* a loopback connection to a socket of the checkpoint, or whose peer the
         * process closed, or over both ways: saved with its data, back as TCP */
        struct tcp_diag pd;
        memset(&pd, 0, sizeof pd);
        if (connected && tcp_diag_find(&peer, &self, buf, &pd) < 0)
            pd.found = 0;
        peer_seen = pd.found && pd.state == TCP_ESTABLISHED && !pd.ino; /* not accepted yet */
        peer_unread = pd.rqueue;
        int inside = 0, peer_fd = -1;
        for (int i = 0; pd.found && pd.ino && i < ss->n; i++)
            if (ss->socks[i].ino == pd.ino) {
                inside = 1;
                peer_fd = ss->socks[i].fd;
            }
        for (uint32_t i = 0; pd.found && pd.ino && d->tree && i < d->tree->nsocks; i++)
            inside |= d->tree->socks[i] == pd.ino;
        /* an orphan, closing (the established ones without an inode wait to be
         * accepted; a closed one in FIN_WAIT2 may be a time-wait entry, of no user):
         * what it sent before is all this end will read */
        int peer_closed = pd.found && !pd.ino && pd.state != TCP_ESTABLISHED &&
                          pd.state != TCP_SYN_RECV && pd.state != TCP_LISTEN;
        if (inside || peer_closed || (!connected && tcp_was_connected(fd)))
            return save_tcp(d, fd, st, inside ? &pd : NULL, peer_fd, peer_closed ? &pd : NULL,
                            here, there);
    }
    const struct sock_info *peer_si = NULL;
    for (int i = 0; si && si->peer_ino && i < ss->n; i++)
        if (ss->socks[i].ino == si->peer_ino)
            peer_si = &ss->socks[i];
    if (domain == AF_UNIX && type == SOCK_DGRAM && peer_si && peer_si->peer_ino != si->ino &&
        stdio_source < 0) {
        /* connected to a (bound) datagram socket of the process that is not connected
         * back: connected to it again by its name */
        snprintf(text, sizeof text, "unix datagram socket %s connected to %s", here, there);
        return save_local_socket(d, ss, fd, st, text, CTX_SOCK_CONNECT_LATE, buf, bufsize, NULL, 0, 0);
    }
    if (domain == AF_UNIX && si && peer_ours)
        /* both ends are ours: saved connected, with what is queued to this end */
        return save_unix_pair(d, fd, st, si, peer_si, domain, type, buf, bufsize);
    if (domain == AF_UNIX && si && connected && !si->peer_ino &&
        (type == SOCK_DGRAM ? plen <= offsetof(struct sockaddr_un, sun_path) : si->shutdown == 3))
        /* its peer was closed: what it had sent is all there is (then EOF); a datagram
         * one's, when the peer had no name its datagrams would come from */
        return save_unix_pair(d, fd, st, si, NULL, domain, type, buf, bufsize);
    int inet = domain == AF_INET || domain == AF_INET6;
    if (listening && (inet || domain == AF_UNIX) && is_launcher_sock(d, st))
        return save_launcher_sock(d, fd, st, domain, type, &self, slen, here);
    /* waiting in the backlog of a listening socket of the process: its accepted end
     * has no inode yet (a unix one is not shut down, as when it was accepted, closed) */
    if (connected && !listening && type != SOCK_DGRAM && stdio_source < 0 &&
        ((inet && peer_seen) || (domain == AF_UNIX && si && !si->peer_ino && !si->shutdown)) &&
        backlog_listener(ss, &peer, plen) >= 0) {
        snprintf(text, sizeof text, "%s connection %s -> %s, not accepted yet by fd %d",
                 sock_type_name(domain, type), here, there, backlog_listener(ss, &peer, plen));
        if (shared_in_tree(d, fd))
            return fail(d, ENOTSUP, "fd %d is a %s, shared by processes of the tree: this "
                        "version connects such a connection again only for one process; accept "
                        "it before the checkpoint", fd, text);
        int unsent = 0;
        if (inet)
            ioctl(fd, SIOCOUTQ, &unsent);
        /* taking its data out replaces its client by a new socket, on the fds of the
         * dumper: from outside (the ptrace backend's helper, with copies of them) the
         * program's fd would stay on the old one, its connection lost */
        if (d->remote && ((inet && (peer_unread || unsent)) || (domain == AF_UNIX && si->unread)))
            return fail(d, ENOTSUP, "fd %d (%s) has data sent on it, which cannot be read without "
                        "taking the connection out of the backlog and giving the program a new "
                        "client socket in its place, which the ptrace backend cannot do from "
                        "outside the process; accept it before the checkpoint, or run the program "
                        "under cr_run", fd, text);
        if (domain == AF_UNIX && si->unread) { /* taken out with its data, and put back */
            int rc = unix_backlog_take(d, &((struct fd_scan *)s)->socks, s, backlog_listener(ss, &peer, plen), fd, text);
            if (rc < 0)
                return rc;
        }
        static struct stat now; /* the socket that replaced it */
        if ((inet && (peer_unread || unsent)) || (domain == AF_UNIX && si->unread)) {
            if (fstat(fd, &now) < 0)
                return fail(d, errno, "fd %d (%s): cannot inspect it again", fd, text);
            st = &now;
        }
        const char *data = NULL;
        ssize_t dlen = 0;
        if (inet && (peer_unread || unsent)) { /* taken out with its data, and put back */
            int rc = tcp_backlog_take(d, ss, s, backlog_listener(ss, &peer, plen), fd, text);
            if (rc < 0)
                return rc;
        }
        uint32_t dmsgs = 0;
        if ((dlen = tcp_backlog_data(fd, &data, &dmsgs)) < 0)
            dlen = 0;
        return save_local_socket(d, ss, fd, st, text, CTX_SOCK_CONNECT_LATE, buf, bufsize, data,
                                 (size_t)dlen, dmsgs);
    }
    if ((inet || domain == AF_UNIX) && (listening || !connected || (inet && type == SOCK_DGRAM)) &&
        (listening || stdio_source < 0)) {
        /* nothing of it is outside the process (a UDP peer is only an address) */
        if (listening)
            snprintf(text, sizeof text, "%s listening on %s", sock_type_name(domain, type), here);
        else if (connected)
            snprintf(text, sizeof text, "%s socket %s connected to %s", sock_type_name(domain, type), here, there);
        else
            snprintf(text, sizeof text, "%s socket %s", sock_type_name(domain, type), here);
        return save_local_socket(d, ss, fd, st, text, 0, buf, bufsize, NULL, 0, 0);
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
    if (d->step && inet && type == SOCK_STREAM && connected && !listening)
        /* a task of a step checkpointed whole: its other end is another task's */
        return save_step_conn(d, fd, st, &self, slen, &peer, plen, here, there, buf, bufsize);
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
    char *buf = malloc(SOCK_DIAG_BUF);
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
        if ((domain == AF_INET || domain == AF_INET6) && type == SOCK_STREAM && connected) {
            /* a TCP connection to a socket of the process, or whose peer it closed, is
             * saved whole (tcp_pair.c) */
            struct tcp_diag pd;
            int ours = 0;
            if (tcp_diag_find(&peer, &self, buf, &pd) == 0 && pd.found) {
                for (int k = 0; pd.ino && k < ss->n; k++)
                    ours |= ss->socks[k].ino == pd.ino;
                ours |= !pd.ino && pd.state != TCP_ESTABLISHED && pd.state != TCP_SYN_RECV;
            }
            if (ours)
                continue;
        }
        int local = domain == AF_INET || domain == AF_INET6 || domain == AF_UNIX;
        if (local && (!connected || (domain != AF_UNIX && type == SOCK_DGRAM) ||
                      (domain == AF_UNIX && si && !si->peer_ino &&
                       (type == SOCK_DGRAM ? plen <= offsetof(struct sockaddr_un, sun_path)
                                           : si->shutdown == 3))))
            continue; /* not connected, UDP, or its peer gone: saved whole */
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
    return add_socket(d, s, p->fd, &p->st, stdio_source(s, p->fd, &p->st),
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

void remove_stale_socket_file(const struct sockaddr_un *un, socklen_t alen, int type)
{
    if (un->sun_family != AF_UNIX || alen <= offsetof(struct sockaddr_un, sun_path) || !un->sun_path[0])
        return; /* unbound, or abstract */
    char path[sizeof un->sun_path + 1];
    size_t n = alen - offsetof(struct sockaddr_un, sun_path);
    memcpy(path, un->sun_path, n < sizeof path - 1 ? n : sizeof path - 1);
    path[n < sizeof path - 1 ? n : sizeof path - 1] = 0;
    struct stat st;
    int probe = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_uid == getuid() && probe >= 0 &&
        connect(probe, (const struct sockaddr *)un, alen) < 0 && errno == ECONNREFUSED)
        unlink(path);
    if (probe >= 0)
        close(probe);
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
    else
        remove_stale_socket_file(un, alen, SOCK_STREAM);
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

int restore_pooled_socket(struct child *c, const struct ctx_fd *f, uint32_t rec, int *own)
{
    int obj = pool_pair_end(c, f); /* the tree's, when processes share it */
    if (obj < 0)
        obj = fd_object(c, f, rec);
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
            if ((o->fds[k]->kind == CTX_FD_UNIX_PAIR || o->fds[k]->kind == CTX_FD_LISTEN ||
                 o->fds[k]->kind == CTX_FD_SOCKPAIR || o->fds[k]->kind == CTX_FD_SOCKET ||
                 o->fds[k]->kind == CTX_FD_TCP) &&
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

void pool_add_socket(struct cr_pool_build *b, uint32_t i, uint32_t k, const struct ctx_fd *f)
{
    if (!in_other_image(b->t, i, f->id.ino) || pool_sock(b->pool, f->id.ino))
        return;
    struct child lc = { .img = &b->t->images[i], .o = b->o, .status_fd = b->status_fd,
                        .high = b->low };
    int s = fd_object(&lc, f, k);
    b->pool->socks[b->pool->nsocks++] = (struct cr_pool_sock){ f->id.ino, 0, pool_fd(b->rep, s, b->low), 1 };
}

/* ---- the reader and cr_info ---- */

/* A saved socket's two addresses (none, or one of its family and of its size) and the
 * length of each of its options. */
int valid_socket_addrs(const struct ctx_socket *so)
{
    if (so->addr_len > sizeof so->addr || so->peer_len > sizeof so->peer || so->nopts > CTX_SOCKOPT_MAX)
        return 0;
    /* an address: none, or one of the socket's family and of its size */
    const uint32_t lens[2] = { so->addr_len, so->peer_len };
    const unsigned char *addrs[2] = { so->addr, so->peer };
    for (int k = 0; k < 2; k++) {
        uint16_t family;
        memcpy(&family, addrs[k], sizeof family);
        if (lens[k] && (family != so->domain ||
                        (so->domain == AF_UNIX && (lens[k] <= offsetof(struct sockaddr_un, sun_path) ||
                                                  lens[k] > sizeof(struct sockaddr_un))) ||
                        (so->domain == AF_INET && lens[k] != sizeof(struct sockaddr_in)) ||
                        (so->domain == AF_INET6 && lens[k] != sizeof(struct sockaddr_in6))))
            return 0;
    }
    for (uint32_t i = 0; i < so->nopts; i++)
        if (so->opts[i].len < 1 || so->opts[i].len > sizeof so->opts[i].val)
            return 0;
    return 1;
}

/* The extra of a socket record (CTX_FD_SOCKET, CTX_FD_SOCKPAIR): its struct ctx_socket
 * within bounds, every option and queued message inside the extra, nothing after. */
int valid_socket_state(const struct ctx_fd *f)
{
    return valid_socket_state_upto(f, f->extra_len);
}

int valid_socket_state_upto(const struct ctx_fd *f, size_t end)
{
    struct ctx_socket so; /* after the path: not aligned */
    if (end > f->extra_len || end < sizeof so)
        return 0;
    const unsigned char *x = fd_rec_extra(f);
    memcpy(&so, x, sizeof so);
    if ((so.domain != AF_UNIX && so.domain != AF_INET && so.domain != AF_INET6) ||
        (so.type != SOCK_STREAM && so.type != SOCK_DGRAM && so.type != SOCK_SEQPACKET) ||
        (so.state & ~(uint32_t)CTX_SOCK_STATES) || so.shutdown > 3 ||
        so.addr_len > sizeof so.addr || so.peer_len > sizeof so.peer || so.nopts > CTX_SOCKOPT_MAX ||
        so.backlog < 0 || (f->kind == CTX_FD_SOCKPAIR && (so.domain != AF_UNIX || so.state)))
        return 0;
    if (!valid_socket_addrs(&so))
        return 0;
    size_t off = sizeof so;
    for (uint32_t i = 0; i < so.nmsgs; i++) {
        struct ctx_sock_msg m;
        if (end - off < sizeof m)
            return 0;
        memcpy(&m, x + off, sizeof m);
        off += sizeof m;
        if (m.len > end - off || m.from_fd < -1 || m.from_fd >= CTX_FD_NUMBER_MAX ||
            (f->kind == CTX_FD_SOCKPAIR && m.from_fd != -1) || m.nfiles > CTX_SOCK_FILES_MAX ||
            (m.flags & ~CTX_SOCK_MSG_FLAGS) ||
            /* files in flight, the process's credentials: in a pair, or sent by a unix
             * stream waiting in a backlog */
            ((m.nfiles || m.flags) && f->kind != CTX_FD_SOCKPAIR &&
             !(f->kind == CTX_FD_SOCKET && so.domain == AF_UNIX && so.type == SOCK_STREAM)) ||
            /* a stream waiting in a backlog: what it sends itself (pieces apart where
             * files came with one) */
            (f->kind == CTX_FD_SOCKET && so.type == SOCK_STREAM &&
             (m.from_fd != f->fd || !(so.state & CTX_SOCK_CONNECT_LATE))))
            return 0;
        off += m.len;
        for (uint32_t k = 0; k < m.nfiles; k++) {
            struct ctx_sock_file sf;
            if (end - off < sizeof sf)
                return 0;
            memcpy(&sf, x + off, sizeof sf);
            off += sizeof sf;
            /* a path to open again, or (another fd's open file) what names it; a deleted
             * file's contents */
            if (sf.same_as_fd < -1 || sf.same_as_fd >= CTX_FD_NUMBER_MAX || sf.path_len < 2 ||
                sf.path_len > CTX_PATH_MAX || sf.path_len > end - off ||
                (x[off] != '/' && sf.same_as_fd < 0) || x[off + sf.path_len - 1] != 0 ||
                memchr(x + off, 0, sf.path_len) != x + off + sf.path_len - 1 ||
                (sf.flags & ~CTX_SOCK_FILE_CONTENTS))
                return 0;
            off += sf.path_len;
            if ((sf.flags & CTX_SOCK_FILE_CONTENTS) &&
                (sf.same_as_fd != -1 || !S_ISREG(sf.id.mode) || sf.id.size > CTX_SOCK_FILE_CONTENTS_MAX ||
                 sf.id.size > end - off))
                return 0;
            if (sf.flags & CTX_SOCK_FILE_CONTENTS)
                off += (size_t)sf.id.size;
        }
    }
    return off == end;
}

int cr_image_sends_own_creds(const struct ctx_image *img)
{
    for (uint32_t k = 0; img->proc && k < img->proc->nfds; k++) {
        const struct ctx_fd *f = img->fds[k];
        if (f->kind != CTX_FD_SOCKPAIR && f->kind != CTX_FD_SOCKET) /* (validated: the flag is on these only) */
            continue;
        struct ctx_socket so;
        const unsigned char *x = sock_state(f, &so);
        for (uint32_t i = 0; i < so.nmsgs; i++) {
            struct ctx_sock_msg m;
            memcpy(&m, x, sizeof m);
            if (m.flags & CTX_SOCK_MSG_OWN_CREDS)
                return f->fd;
            x += sizeof m + m.len;
            for (uint32_t j = 0; j < m.nfiles; j++) {
                struct ctx_sock_file sf;
                memcpy(&sf, x, sizeof sf);
                x += sock_file_size(&sf);
            }
        }
    }
    return -1;
}

/* The fds in flight with the queued messages of a socket record (x: the first), each
 * on a line when `out`; how many. */
static unsigned long long sock_files(const unsigned char *x, uint32_t nmsgs, unsigned long long *bytes,
                                     FILE *out)
{
    unsigned long long files = 0;
    for (uint32_t k = 0; k < nmsgs; k++) {
        struct ctx_sock_msg m;
        memcpy(&m, x, sizeof m);
        *bytes += m.len;
        x += sizeof m + m.len;
        if (out && (m.flags & CTX_SOCK_MSG_OWN_CREDS))
            fprintf(out, "         message %u came with the process's own credentials "
                    "(SCM_CREDENTIALS): restarted with its old pid\n", k + 1);
        for (uint32_t i = 0; i < m.nfiles; i++, files++) {
            struct ctx_sock_file sf;
            memcpy(&sf, x, sizeof sf);
            if (out && (sf.flags & CTX_SOCK_FILE_CONTENTS))
                fprintf(out, "         in flight with message %u: %s at %llu, its %llu bytes saved\n",
                        k + 1, (const char *)x + sizeof sf, (unsigned long long)sf.pos,
                        (unsigned long long)sf.id.size);
            else if (out)
                fprintf(out, "         in flight with message %u: %s at %llu%s\n", k + 1,
                        (const char *)x + sizeof sf, (unsigned long long)sf.pos,
                        sf.same_as_fd >= 0 ? ", the open file of an fd" : "");
            x += sock_file_size(&sf);
        }
    }
    return files;
}

/* A socket record with its state (CTX_FD_SOCKET, CTX_FD_SOCKPAIR): what it is, its
 * state, options and queue. */
void describe_socket(const struct ctx_fd *f, FILE *out, const char *acc)
{
    struct ctx_socket so; /* after the path: not aligned */
    const unsigned char *x = fd_rec_extra(f);
    memcpy(&so, x, sizeof so);
    unsigned long long bytes = 0, files = sock_files(x + sizeof so, so.nmsgs, &bytes, NULL);
    fd_line(out, f, (so.state & CTX_SOCK_LISTENING) ? "listen" : ctx_fd_kind_name(f->kind), acc);
    if (f->kind == CTX_FD_SOCKPAIR && f->pos)
        fprintf(out, "  connected to socket:[%llu] in the checkpoint, %llu bytes queued",
                (unsigned long long)f->pos, bytes);
    else if (so.state & CTX_SOCK_LISTENING)
        fprintf(out, "  %s, backlog %d, %llu bytes queued", fd_rec_path(f), so.backlog, bytes);
    else
        fprintf(out, "  %s, %llu bytes queued", fd_rec_path(f), bytes);
    fprintf(out, " in %u message%s, %llu fds in flight, %u option%s set%s%s%s\n", so.nmsgs,
            so.nmsgs == 1 ? "" : "s", files, so.nopts, so.nopts == 1 ? "" : "s",
            so.shutdown & 1 ? ", shut for reading" : "", so.shutdown & 2 ? ", shut for writing" : "",
            (so.state & CTX_SOCK_PATH_GONE) ? ", its path deleted" : "");
    sock_files(x + sizeof so, so.nmsgs, &bytes, out);
}

static void describe_dead(const struct ctx_fd *f, FILE *out, const char *acc)
{
    fd_line(out, f, ctx_fd_kind_name(f->kind), acc);
    fprintf(out, "  restored reset (was %s)\n", fd_rec_path(f));
}

static const char *outside_dead(const struct ctx_fd *f)
{
    (void)f;
    return "a reset connection";
}

/* extra: the address it was bound to */
static int valid_listen(const struct ctx_fd *f, const struct ctx_fd *const *earlier, uint32_t n)
{
    (void)earlier, (void)n;
    return f->extra_len >= 2 && f->extra_len <= 128;
}

static void describe_listen(const struct ctx_fd *f, FILE *out, const char *acc)
{
    fd_line(out, f, ctx_fd_kind_name(f->kind), acc);
    fprintf(out, "  %s\n", fd_rec_path(f));
}

/* Saved and told apart here (add_socket): the pairs are unix_sock.c's, stdio ones
 * inherit.c's (CTX_FD_INHERIT). */
const struct cr_fd_ops cr_fd_socket = {
    .kind = CTX_FD_SOCKET_DEAD, .name = "socket", .scan = scan_sockets, .detect = detect_socket,
    .save = save_socket, .restore = dead_socket, .restore_nonblock = 1,
    .valid = valid_no_extra, .describe = describe_dead, .outside = outside_dead,
};

/* Older files: a listening socket, its address alone (now a CTX_FD_SOCKET). */
const struct cr_fd_ops cr_fd_listen = {
    .kind = CTX_FD_LISTEN, .name = "listen", .make = listen_again, .restore = restore_pooled_socket,
    .restore_nonblock = 1, .pool = pool_add_socket,
    .valid = valid_listen, .describe = describe_listen, .socket = 1,
};
