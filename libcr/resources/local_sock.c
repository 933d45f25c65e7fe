/* Sockets whose whole state is in the process: unbound, bound, listening, UDP
 * (connected or not), or connected to a socket of the process that has not accepted
 * it yet (or a bound unix datagram one).  Each comes back the same domain, type and
 * protocol, with the options the program changed, bound to the same address, listening
 * with its backlog or connected as it was; the datagrams queued to a UDP or unix
 * datagram socket are sent again from their senders, which must be sockets of the
 * process (the kernel takes a datagram's source address from the socket that sends it). */
#define _GNU_SOURCE
#include "resources.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "context_reader.h"

/* ---- dump (add_socket, in socket.c, tells such a socket) ---- */

struct sender_query {
    struct dump *d;
    const struct sock_scan *ss;
    int fd;
    const char *what;
    /* a task of a step: the named socket outside the process the datagrams came from
     * (another task's, sent again by it at restart, step_dgram.c), and how many came
     * from sockets of the process */
    struct sockaddr_un step_from;
    socklen_t step_from_len;
    int own;
};

static int same_inet_addr(const struct sockaddr_storage *bound, const struct sockaddr *src)
{
    if (bound->ss_family != src->sa_family)
        return 0;
    if (src->sa_family == AF_INET) {
        const struct sockaddr_in *b = (const void *)bound, *s = (const void *)src;
        return b->sin_port == s->sin_port &&
               (b->sin_addr.s_addr == htonl(INADDR_ANY) || b->sin_addr.s_addr == s->sin_addr.s_addr);
    }
    const struct sockaddr_in6 *b = (const void *)bound, *s = (const void *)src;
    return b->sin6_port == s->sin6_port &&
           (!memcmp(&b->sin6_addr, &in6addr_any, sizeof b->sin6_addr) ||
            !memcmp(&b->sin6_addr, &s->sin6_addr, sizeof b->sin6_addr));
}

/* The UDP socket of the process that sent a queued datagram (by its source address). */
static int udp_sender(void *arg, const struct sockaddr *src, socklen_t alen)
{
    struct sender_query *q = arg;
    for (int i = 0; alen && i < q->ss->n; i++) {
        const struct sock_info *si = &q->ss->socks[i];
        int type = 0;
        socklen_t len = sizeof type;
        struct sockaddr_storage bound;
        socklen_t blen = sizeof bound;
        if ((si->domain != AF_INET && si->domain != AF_INET6) ||
            getsockopt(si->fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_DGRAM ||
            getsockname(si->fd, (struct sockaddr *)&bound, &blen) < 0)
            continue;
        if (same_inet_addr(&bound, src))
            return si->fd;
    }
    return fail(q->d, ENOTSUP, "fd %d (%s) has datagrams queued from a sender outside the "
                "process: a restart cannot send them again from their address; let the program "
                "read them before the checkpoint", q->fd, q->what);
}

/* The unix datagram socket of the process that sent a queued datagram: one bound to
 * the name it came from (an unnamed sender cannot be told). */
static int unix_sender(void *arg, const struct sockaddr *src, socklen_t alen)
{
    struct sender_query *q = arg;
    for (int i = 0; alen > offsetof(struct sockaddr_un, sun_path) && i < q->ss->n; i++) {
        const struct sock_info *si = &q->ss->socks[i];
        int type = 0;
        socklen_t len = sizeof type;
        struct sockaddr_storage bound;
        socklen_t blen = sizeof bound;
        if (si->domain == AF_UNIX && getsockopt(si->fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
            type == SOCK_DGRAM && getsockname(si->fd, (struct sockaddr *)&bound, &blen) == 0 &&
            blen == alen && !memcmp(&bound, src, alen)) {
            q->own++;
            return si->fd;
        }
    }
    if (q->d->step && alen > offsetof(struct sockaddr_un, sun_path) && alen <= sizeof q->step_from) {
        /* a task of a step: another task's socket, which sends them again at restart
         * (one sender: the order of datagrams from two processes could not be kept) */
        if (!q->step_from_len) {
            memcpy(&q->step_from, src, alen);
            q->step_from_len = alen;
            return SOCK_FROM_STEP;
        }
        if (q->step_from_len == alen && !memcmp(&q->step_from, src, alen))
            return SOCK_FROM_STEP;
        return fail(q->d, ENOTSUP, "fd %d (%s) has datagrams queued from two sockets outside the "
                    "process: a restart sends each again from its task, and could not keep their "
                    "order; let the program read them before the checkpoint", q->fd, q->what);
    }
    return fail(q->d, ENOTSUP, "fd %d (%s) has datagrams queued from a socket %s: a restart "
                "cannot send them again from their sender; let the program read them before the "
                "checkpoint", q->fd, q->what, alen > offsetof(struct sockaddr_un, sun_path)
                ? "outside the process" : "without a name");
}

int backlog_listener(const struct sock_scan *ss, const struct sockaddr_storage *addr, socklen_t alen)
{
    /* an IPv4 client may wait at an IPv6 listener that takes IPv4 (IPV6_V6ONLY off),
     * which sees it as ::ffff:a.b.c.d */
    struct sockaddr_storage mapped;
    memset(&mapped, 0, sizeof mapped);
    if (addr->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const void *)addr;
        struct sockaddr_in6 *m = (void *)&mapped;
        m->sin6_family = AF_INET6;
        m->sin6_port = in->sin_port;
        m->sin6_addr.s6_addr[10] = m->sin6_addr.s6_addr[11] = 0xff;
        memcpy(&m->sin6_addr.s6_addr[12], &in->sin_addr, 4);
    }
    for (int pass = 0; pass < 2; pass++) /* its own family first */
        for (int i = 0; i < ss->n; i++) {
            const struct sock_info *si = &ss->socks[i];
            int listening = 0, v6only = 1;
            socklen_t len = sizeof listening;
            struct sockaddr_storage bound;
            socklen_t blen = sizeof bound;
            memset(&bound, 0, sizeof bound);
            const struct sockaddr_storage *want = pass ? &mapped : addr;
            if (si->domain != want->ss_family ||
                getsockopt(si->fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 || !listening ||
                getsockname(si->fd, (struct sockaddr *)&bound, &blen) < 0)
                continue;
            len = sizeof v6only;
            if (pass && (getsockopt(si->fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &len) < 0 || v6only))
                continue;
            if (si->domain == AF_UNIX ? blen == alen && !memcmp(&bound, addr, alen)
                                      : same_inet_addr(&bound, (const struct sockaddr *)want))
                return si->fd;
        }
    return -1;
}

int save_local_socket(struct dump *d, const struct sock_scan *ss, int fd, const struct stat *st,
                      const char *text, uint32_t state, char *buf, size_t bufsize,
                      const char *stream, size_t stream_len, uint32_t stream_msgs)
{
    static struct ctx_socket so; /* the dump runs in one thread at a time */
    memset(&so, 0, sizeof so);
    so.state = state;
    socklen_t len = sizeof(int);
    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &so.domain, &len);
    len = sizeof(int);
    getsockopt(fd, SOL_SOCKET, SO_TYPE, &so.type, &len);
    len = sizeof(int);
    getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &so.protocol, &len);
    int listening = 0;
    len = sizeof listening;
    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len);
    struct sockaddr_storage a;
    socklen_t alen = sizeof a;
    memset(&a, 0, sizeof a);
    if (getsockname(fd, (struct sockaddr *)&a, &alen) == 0 && alen <= sizeof so.addr) {
        int bound = so.domain == AF_UNIX ? alen > offsetof(struct sockaddr_un, sun_path)
                    : so.domain == AF_INET ? ((struct sockaddr_in *)&a)->sin_port != 0
                                           : ((struct sockaddr_in6 *)&a)->sin6_port != 0;
        if (bound) {
            memcpy(so.addr, &a, alen);
            so.addr_len = alen;
        }
    }
    alen = sizeof a;
    if (!listening && getpeername(fd, (struct sockaddr *)&a, &alen) == 0 && alen <= sizeof so.peer &&
        (so.domain != AF_UNIX || alen > offsetof(struct sockaddr_un, sun_path))) {
        memcpy(so.peer, &a, alen);
        so.peer_len = alen;
        so.state |= CTX_SOCK_CONNECTED;
    }
    const struct sock_info *si = NULL;
    for (int i = 0; i < ss->n; i++)
        if (ss->socks[i].ino == st->st_ino)
            si = &ss->socks[i];
    if (so.domain == AF_UNIX && so.addr_len) {
        const struct sockaddr_un *un = (const void *)so.addr;
        struct stat ps;
        if (un->sun_path[0] && si &&
            (stat(un->sun_path, &ps) < 0 || !S_ISSOCK(ps.st_mode) || ps.st_ino != si->vfs_ino))
            so.state |= CTX_SOCK_PATH_GONE; /* it must not appear again */
    }
    so.shutdown = si ? si->shutdown : 0;
    if (so.domain != AF_UNIX && so.type == SOCK_DGRAM) { /* sock_diag's unix bits are theirs */
        int how = inet_dgram_shutdown(so.domain, so.protocol, st->st_ino, buf);
        so.shutdown = how > 0 ? (uint32_t)how : 0;
    }
    if (listening) {
        so.state |= CTX_SOCK_LISTENING;
        int waiting = si ? si->waiting : 0;
        so.backlog = so.domain == AF_UNIX ? (si ? si->backlog : -1)
                                          : tcp_listen_backlog(so.domain, st->st_ino, buf, &waiting);
        if (so.backlog < 0)
            so.backlog = SOMAXCONN; /* not told: the most it can be */
        /* connections from outside the process not accepted yet are not made again:
         * their clients see a reset, as the connections the process has */
        int ours = waiting ? backlog_clients(ss, fd, buf) : 0;
        if (waiting > ours && d->sockets_refuse)
            return fail(d, ENOTSUP, "fd %d (%s) has %d connections from outside the process "
                        "waiting to be accepted; --sockets=refuse was asked (the default drops "
                        "them: their clients see a reset)", fd, text, waiting - ours);
    }
    if (sock_save_opts(fd, &so) < 0)
        return fail(d, E2BIG, "fd %d (%s) has more than %d socket options changed", fd, text,
                    CTX_SOCKOPT_MAX);
    /* what UDP_CORK holds back is in its send queue, which cannot be read */
    int corked = 0, held = 0;
    socklen_t clen = sizeof corked;
    if (so.domain != AF_UNIX && so.type == SOCK_DGRAM &&
        getsockopt(fd, IPPROTO_UDP, UDP_CORK, &corked, &clen) == 0 && corked &&
        ioctl(fd, SIOCOUTQ, &held) == 0 && held > 0)
        return fail(d, ENOTSUP, "fd %d (%s) holds back a datagram not sent yet (UDP_CORK, %d bytes "
                    "of memory), which cannot be read to be saved: it is in the socket's send "
                    "queue, which no call reads (Linux's repair mode is TCP's alone, and needs "
                    "CAP_NET_ADMIN), and sending it would change what the peer sees; let the "
                    "program uncork it before the checkpoint", fd, text, held);
    ssize_t queued = 0;
    if (so.type != SOCK_STREAM) { /* a stream socket here is not connected: nothing queued */
        static struct sender_query q; /* (its address: off the runtime's small stack) */
        memset(&q, 0, sizeof q);
        q.d = d, q.ss = ss, q.fd = fd, q.what = text;
        queued = sock_peek_queue(d, fd, text, so.type, so.shutdown & 1, 0, buf, bufsize, &so.nmsgs,
                                 so.domain == AF_UNIX ? unix_sender : udp_sender, &q);
        if (queued < 0)
            return (int)queued;
        if (q.step_from_len) { /* from another task of the step */
            if (q.own)
                return fail(d, ENOTSUP, "fd %d (%s) has datagrams queued from a socket of the "
                            "process and from one of another task of the step: a restart sends "
                            "each again from its task, and could not keep their order; let the "
                            "program read them before the checkpoint", fd, text);
            return save_step_dgram(d, fd, st, text, &so, buf, (size_t)queued, &q.step_from,
                                   q.step_from_len);
        }
    }
    /* a stream connected late: the bytes it had sent, sent again once connected (as
     * one message, or the pieces with files in flight apart: stream_msgs of them) */
    struct ctx_sock_msg m = { (uint32_t)stream_len, fd, 0, 0 };
    size_t more = stream_len && !stream_msgs ? sizeof m + stream_len : stream_len;
    so.nmsgs += stream_msgs ? stream_msgs : stream_len ? 1 : 0;
    struct ctx_fd *r = sock_record(d, fd, CTX_FD_SOCKET, text, sizeof so + (size_t)queued + more, st);
    if (!r)
        return fail(d, E2BIG, "too much metadata");
    char *x = (char *)(r + 1) + r->path_len;
    memcpy(x, &so, sizeof so);
    memcpy(x + sizeof so, buf, (size_t)queued);
    if (stream_len && stream_msgs) {
        memcpy(x + sizeof so + queued, stream, stream_len);
    } else if (stream_len) {
        memcpy(x + sizeof so + queued, &m, sizeof m);
        memcpy(x + sizeof so + queued + sizeof m, stream, stream_len);
    }
    return 0;
}

/* ---- restart ---- */

static const char *unix_path(const struct ctx_socket *so, char *path, size_t cap)
{
    const struct sockaddr_un *un = (const void *)so->addr;
    size_t n = so->addr_len - offsetof(struct sockaddr_un, sun_path);
    n = n < cap - 1 ? n : cap - 1;
    memcpy(path, un->sun_path, n);
    path[n] = 0;
    return path;
}

/* /proc/net/tcp's "ADDR:PORT" (the address as the kernel's words, in hex) as text */
static void proc_endpoint(const char *hex, int v6, char *out, size_t len)
{
    unsigned char a[16];
    unsigned w[4] = { 0 }, port = 0;
    int n = v6 ? sscanf(hex, "%8x%8x%8x%8x:%x", &w[0], &w[1], &w[2], &w[3], &port)
               : sscanf(hex, "%8x:%x", &w[0], &port);
    char ip[INET6_ADDRSTRLEN] = "?";
    if (n == (v6 ? 5 : 2)) {
        memcpy(a, w, sizeof w); /* each word is as it was in memory */
        inet_ntop(v6 ? AF_INET6 : AF_INET, a, ip, sizeof ip);
    }
    snprintf(out, len, v6 ? "[%s]:%u" : "%s:%u", ip, port);
}

/* The process that has socket inode ino open (its pid and name), for a refused bind:
 * this one, or another of the user's that /proc lets us see */
static void socket_owner(unsigned long ino, char *out, size_t len)
{
    char want[64], path[600], link[64];
    snprintf(want, sizeof want, "socket:[%lu]", ino);
    snprintf(out, len, " (a process this user cannot see)");
    DIR *proc = opendir("/proc");
    struct dirent *p;
    while (proc && (p = readdir(proc))) {
        if (p->d_name[0] < '0' || p->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/fd", p->d_name);
        DIR *fds = opendir(path);
        struct dirent *e;
        while (fds && (e = readdir(fds))) {
            snprintf(path, sizeof path, "/proc/%s/fd/%s", p->d_name, e->d_name);
            ssize_t n = readlink(path, link, sizeof link - 1);
            if (n <= 0 || (link[n] = 0, strcmp(link, want)))
                continue;
            char comm[64] = "?";
            snprintf(path, sizeof path, "/proc/%s/comm", p->d_name);
            FILE *cf = fopen(path, "re");
            if (cf && fgets(comm, sizeof comm, cf))
                comm[strcspn(comm, "\n")] = 0;
            if (cf)
                fclose(cf);
            snprintf(out, len, " (fd %.12s of %s %.12s%s)", e->d_name, comm, p->d_name,
                     atoi(p->d_name) == getpid() ? ", this restart itself" : "");
            closedir(fds);
            closedir(proc);
            return;
        }
        if (fds)
            closedir(fds);
    }
    if (proc)
        closedir(proc);
}

/* What holds TCP port `port` on this host, for a refused bind: up to 4 sockets of
 * /proc/net/tcp and tcp6 with that local port, their state and other end (out may be
 * NULL); how many are in another state than TIME_WAIT and may hold the port against a
 * bind in `family` (v6only: the socket bound is IPV6_V6ONLY).  An IPv6 socket that is
 * not on an IPv4-mapped address does not count against an IPv4 bind: whether it is
 * IPV6_V6ONLY cannot be read from here, and the other task of a node whose IPv6
 * listener has the port of this one's IPv4 listener (Open MPI's btl/tcp: both pick
 * from 1024 up) would otherwise cut short the wait for a TIME_WAIT entry; one that
 * does take IPv4 keeps the bind failing until that wait ends, then it is named. */
static int port_holders(unsigned port, int family, int v6only, char *out, size_t len)
{
    static const char *const states[] = { "?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1",
                                          "FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT",
                                          "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV" };
    size_t at = 0;
    int shown = 0, live = 0;
    char none[1];
    if (!out)
        out = none, len = sizeof none;
    out[0] = 0;
    for (int v6 = 0; v6 < 2; v6++) {
        FILE *t = fopen(v6 ? "/proc/net/tcp6" : "/proc/net/tcp", "re");
        char line[512], local[64], remote[64];
        unsigned st;
        unsigned long inode;
        while (t && fgets(line, sizeof line, t)) {
            if (sscanf(line, " %*u: %63s %63s %x %*s %*s %*s %*s %*s %lu", local, remote, &st, &inode) != 4)
                continue;
            const char *colon = strchr(local, ':');
            if (!colon || strtoul(colon + 1, NULL, 16) != port)
                continue;
            int v4mapped = v6 && strlen(local) >= 24 && !strncmp(local, "0000000000000000FFFF0000", 24);
            if (!(family == AF_INET && v6 && !v4mapped) && !(family == AF_INET6 && v6only && !v6))
                live += st != 6; /* TCP_TIME_WAIT */
            if (shown == 4 || len < 2)
                continue;
            char l[80], r[80], who[160] = " (no process)";
            proc_endpoint(local, v6, l, sizeof l);
            proc_endpoint(remote, v6, r, sizeof r);
            if (inode)
                socket_owner(inode, who, sizeof who);
            at += (size_t)snprintf(out + at, len - at, "%s%s %s -> %s%s", shown ? "; " : "",
                                   st < sizeof states / sizeof *states ? states[st] : "?", l, r, who);
            if (at >= len)
                at = len - 1;
            shown++;
        }
        if (t)
            fclose(t);
    }
    if (!shown)
        snprintf(out, len, "no TCP socket has it now");
    return live;
}

#define TIME_WAIT_TRIES 650 /* 65 s, in tenths: a TIME_WAIT lasts 60 s */

int make_local_socket(struct child *c, const struct ctx_fd *f, uint32_t rec)
{
    (void)rec;
    struct ctx_socket so;
    sock_state(f, &so);
    const char *what = (const char *)(f + 1);
    int s = socket(so.domain, so.type | SOCK_CLOEXEC, so.protocol);
    if (s < 0)
        child_fail(c, errno, "cannot create the socket of fd %d (%s): %s", f->fd, what, strerror(errno));
    sock_apply_opts(c, s, f, &so);
    int reuse = 0; /* the program's SO_REUSEADDR, while the bind sets it */
    if (so.addr_len) {
        int one = 1;
        socklen_t len = sizeof reuse;
        char path[sizeof so.addr + 1] = "";
        int back = -1; /* where we were: a tree's pool makes sockets in cr_restart itself */
        if (so.domain == AF_UNIX) {
            char buf[CTX_PATH_MAX];
            int moved;
            const char *cwd = relocate(c->o, c->img->cwd, buf, sizeof buf, &moved);
            unix_path(&so, path, sizeof path);
            if (path[0] && path[0] != '/' && /* bound relative to it */
                ((back = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 || chdir(cwd) < 0))
                child_fail(c, errno, "cannot enter %s to bind fd %d to %s: %s", cwd, f->fd, path,
                           strerror(errno));
            if (!(so.state & CTX_SOCK_PATH_GONE))
                remove_stale_socket_file((const struct sockaddr_un *)so.addr, so.addr_len, so.type);
        } else if (so.type == SOCK_STREAM) {
            /* connections the old process closed may wait in TIME_WAIT on its port */
            getsockopt(s, SOL_SOCKET, SO_REUSEADDR, &reuse, &len);
            setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        }
        /* the checkpointed process's own sockets may take a moment to let their
         * address go (a TCP connection closing, a process still exiting).  A
         * connection it closed itself before the checkpoint, accepted by a listener
         * without SO_REUSEADDR, keeps the port in TIME_WAIT for up to a minute (the
         * kernel's fixed TCP_TIMEWAIT_LEN) whatever the new socket sets: ended when its
         * other end is of this host (tcp_time_wait.c), else waited out */
        int rc, tries = 0;
        unsigned port = so.domain == AF_INET ? ntohs(((const struct sockaddr_in *)so.addr)->sin_port)
                      : so.domain == AF_INET6 ? ntohs(((const struct sockaddr_in6 *)so.addr)->sin6_port) : 0;
        int v6only = 0;
        socklen_t vl = sizeof v6only;
        if (so.domain == AF_INET6)
            getsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &vl);
        /* TIME_WAIT entries alone on the port: ended (tcp_time_wait.c), again every 2 s
         * while they stay (a try the kernel refused, an entry that came later); what
         * holds the port is said once the wait outlasts the first 3 s */
        int next_end = 0, said = 0;
        char stuck[600] = "";
        while ((rc = bind(s, (const struct sockaddr *)so.addr, so.addr_len)) < 0 && errno == EADDRINUSE &&
               so.domain != AF_UNIX &&
               (tries++ < 30 || (so.type == SOCK_STREAM && tries < 30 + TIME_WAIT_TRIES &&
                                 port_holders(port, so.domain, v6only, NULL, 0) == 0))) {
            if (tries >= next_end && so.type == SOCK_STREAM && port_holders(port, so.domain, v6only, NULL, 0) == 0) {
                next_end = tries + 20;
                if (tcp_end_time_waits(port, stuck, sizeof stuck) > 0)
                    continue;
            }
            if (tries > 30 && !said) {
                char h[560];
                said = 1;
                port_holders(port, so.domain, v6only, h, sizeof h);
                dprintf(c->stdio[2] > 2 ? c->stdio[2] : STDERR_FILENO, "cr_restart: fd %d (%s): its "
                        "port %u is held [%s]%s%s; waiting up to %d s for it\n", f->fd, what, port, h,
                        stuck[0] ? ", not ended: " : "", stuck, TIME_WAIT_TRIES / 10);
            }
            nanosleep(&(struct timespec){ 0, 100 * 1000 * 1000 }, NULL);
        }
        char held[600] = "";
        if (rc < 0 && errno == EADDRINUSE && so.domain != AF_UNIX && so.type == SOCK_STREAM) {
            int e = errno;
            char h[560];
            port_holders(port, so.domain, v6only, h, sizeof h);
            snprintf(held, sizeof held, " [its port: %s]", h);
            errno = e;
        }
        if (rc < 0)
            child_fail(c, errno, "cannot bind fd %d again (%s): %s%s%s%s", f->fd, what, strerror(errno), held,
                       errno == EADDRINUSE ? " (another socket holds that address now: end the "
                       "program that has it, then restart" : "",
                       errno != EADDRINUSE ? "" : so.domain != AF_UNIX && so.type == SOCK_STREAM && !reuse
                       ? "; or connections the old process closed wait in TIME_WAIT on its port, "
                       "up to a minute when it did not set SO_REUSEADDR: try again later)" : ")");
        if ((so.state & CTX_SOCK_PATH_GONE) && unlink(path) < 0)
            child_fail(c, errno, "cannot remove %s again (fd %d was bound there after it was "
                       "deleted): %s", path, f->fd, strerror(errno));
        if (back >= 0 && (fchdir(back) < 0 || close(back) < 0))
            child_fail(c, errno, "cannot go back to the directory cr_restart was in: %s", strerror(errno));
    }
    if ((so.state & CTX_SOCK_LISTENING) && listen(s, so.backlog) < 0)
        child_fail(c, errno, "cannot listen again at fd %d (%s): %s", f->fd, what, strerror(errno));
    /* after listen(), which checks the port again: the connections made again on it
     * (tcp_pair.c) let it be shared only with SO_REUSEADDR */
    if (so.addr_len && so.domain != AF_UNIX && so.type == SOCK_STREAM)
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse);
    if ((so.state & CTX_SOCK_CONNECTED) && !(so.state & CTX_SOCK_CONNECT_LATE) &&
        connect(s, (const struct sockaddr *)so.peer, so.peer_len) < 0)
        child_fail(c, errno, "cannot connect fd %d again (%s): %s", f->fd, what, strerror(errno));
    if (so.shutdown && shutdown(s, (int)so.shutdown - 1) < 0 && errno != ENOTCONN)
        child_fail(c, errno, "cannot shut fd %d down again (%s): %s", f->fd, what, strerror(errno));
    return s;
}

/* ---- listening TCP sockets bound before a step's connections are made again ---- */

/* A restarted step's tasks make their connections to each other again with new ports
 * the kernel picks (step_conn.c); a listener of another task on this host, bound later
 * at its saved port in the ephemeral range, could find that port taken by one of them.
 * So each task binds its listeners first (before the step's barrier), and holds them
 * here until its fds are placed. */
#define MAX_EARLY 256
static struct {
    uint32_t rec;
    int fd;
} early[MAX_EARLY];
static int nearly;

void bind_listeners_early(struct child *c)
{
    const struct ctx_image *img = c->img;
    for (uint32_t i = 0; i < img->proc->nfds; i++) {
        const struct ctx_fd *f = img->fds[i];
        struct ctx_socket so;
        if (f->kind != CTX_FD_SOCKET)
            continue;
        sock_state(f, &so);
        if ((so.domain != AF_INET && so.domain != AF_INET6) || so.type != SOCK_STREAM ||
            !(so.state & CTX_SOCK_LISTENING) || !so.addr_len ||
            pool_origin(c, c->member, f->fd) >= 0 || pool_pair_end(c, f) >= 0)
            continue; /* a tree's shared one is made by the pool, before any fork */
        if (nearly == MAX_EARLY)
            return; /* the rest in fd order, as without a step */
        early[nearly].rec = i;
        early[nearly].fd = move_high(c, make_local_socket(c, f, i));
        nearly++;
    }
}

static int restore_local_socket(struct child *c, const struct ctx_fd *f, uint32_t rec, int *own)
{
    for (int k = 0; k < nearly; k++)
        if (early[k].rec == rec && early[k].fd >= 0) {
            int s = early[k].fd;
            early[k].fd = -1;
            return s;
        }
    return restore_pooled_socket(c, f, rec, own);
}

/* The address to send a datagram again to fd: the one it is bound to, or (an inet
 * wildcard) the sender's own with the port of fd. */
static socklen_t resend_address(int fd, int sender, struct sockaddr_storage *to)
{
    struct sockaddr_storage from;
    socklen_t len = sizeof *to, flen = sizeof from;
    if (getsockname(fd, (struct sockaddr *)to, &len) < 0 ||
        getsockname(sender, (struct sockaddr *)&from, &flen) < 0 || from.ss_family != to->ss_family)
        return 0;
    if (to->ss_family == AF_UNIX)
        return len; /* its name (a path: relative to the working directory) */
    if (to->ss_family == AF_INET) {
        struct sockaddr_in *t = (void *)to, *s = (void *)&from;
        if (t->sin_addr.s_addr == htonl(INADDR_ANY))
            t->sin_addr.s_addr = s->sin_addr.s_addr != htonl(INADDR_ANY) ? s->sin_addr.s_addr
                                                                          : htonl(INADDR_LOOPBACK);
    } else {
        struct sockaddr_in6 *t = (void *)to, *s = (void *)&from;
        if (!memcmp(&t->sin6_addr, &in6addr_any, sizeof t->sin6_addr))
            t->sin6_addr = memcmp(&s->sin6_addr, &in6addr_any, sizeof s->sin6_addr) ? s->sin6_addr
                                                                                 : in6addr_loopback;
    }
    return len;
}

/* A connection to a socket of the process, made again once it is there: to wait in
 * the backlog of a listening one, or to a bound datagram socket. */
static void connect_late(struct child *c, const struct ctx_fd *f, const struct ctx_socket *so)
{
    int flags = fcntl(f->fd, F_GETFL);
    fcntl(f->fd, F_SETFL, flags & ~O_NONBLOCK);
    if (connect(f->fd, (const struct sockaddr *)so->peer, so->peer_len) < 0)
        child_fail(c, errno, "cannot connect fd %d again to the socket of the process it was "
                   "connected to (%s): %s", f->fd, (const char *)(f + 1), strerror(errno));
    fcntl(f->fd, F_SETFL, flags);
}

/* Once every fd is in place: the connections to sockets of the process (those waiting
 * in a backlog in the order of their fds: the kernel does not tell the order they came
 * in), then the queued datagrams, each from its sender, in order. */
static void after_every_fd(struct child *c)
{
    const struct ctx_image *img = c->img;
    nearly = 0; /* each was placed (a failed restart ends the child) */
    char buf[CTX_PATH_MAX];
    int moved;
    const char *cwd = relocate(c->o, img->cwd, buf, sizeof buf, &moved);
    for (uint32_t i = 0; i < img->proc->nfds; i++) {
        struct ctx_socket so;
        if (img->fds[i]->kind != CTX_FD_SOCKET)
            continue;
        sock_state(img->fds[i], &so);
        /* unix names are relative to it (the process enters it for good later) */
        if (so.domain == AF_UNIX && (so.nmsgs || (so.state & CTX_SOCK_CONNECT_LATE)) && chdir(cwd) < 0)
            child_fail(c, errno, "cannot enter the working directory %s: %s", cwd, strerror(errno));
        if (so.state & CTX_SOCK_CONNECT_LATE)
            connect_late(c, img->fds[i], &so);
    }
    for (uint32_t i = 0; i < img->proc->nfds; i++) {
        const struct ctx_fd *f = img->fds[i];
        struct ctx_socket so;
        if (f->kind != CTX_FD_SOCKET)
            continue;
        const unsigned char *m = sock_state(f, &so);
        for (uint32_t k = 0; k < so.nmsgs && so.type == SOCK_STREAM; k++) {
            /* a connection waiting in a backlog: what it had sent, from itself, a piece
             * that came with files sent with them again (they go with its first byte) */
            struct ctx_sock_msg h;
            memcpy(&h, m, sizeof h);
            int fds[CTX_SOCK_FILES_MAX], opened[CTX_SOCK_FILES_MAX];
            const unsigned char *p = m + sizeof h;
            m = files_in_flight(c, f, p + h.len, h.nfiles, fds, opened);
            int flags = fcntl(f->fd, F_GETFL);
            fcntl(f->fd, F_SETFL, flags & ~O_NONBLOCK);
            int first = 1;
            for (uint32_t left = h.len; left;) {
                union {
                    struct cmsghdr h;
                    char b[CMSG_SPACE(sizeof fds)];
                } ctl;
                struct iovec iov = { (void *)p, left };
                struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
                if (first && h.nfiles) {
                    memset(&ctl, 0, sizeof ctl);
                    mh.msg_control = &ctl;
                    mh.msg_controllen = CMSG_SPACE(h.nfiles * sizeof(int));
                    ctl.h.cmsg_level = SOL_SOCKET;
                    ctl.h.cmsg_type = SCM_RIGHTS;
                    ctl.h.cmsg_len = CMSG_LEN(h.nfiles * sizeof(int));
                    memcpy(CMSG_DATA(&ctl.h), fds, h.nfiles * sizeof(int));
                }
                ssize_t n = sendmsg(f->fd, &mh, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                    continue; /* (not sent: the files go with the next try) */
                if (n <= 0)
                    child_fail(c, errno, "cannot send again the %u bytes fd %d (%s) had sent: %s",
                               h.len, f->fd, (const char *)(f + 1), strerror(errno));
                p += n;
                left -= (uint32_t)n;
                first = 0;
            }
            fcntl(f->fd, F_SETFL, flags);
            for (uint32_t i = 0; i < h.nfiles; i++)
                if (opened[i])
                    close(fds[i]);
        }
        for (uint32_t k = 0; k < so.nmsgs && so.type != SOCK_STREAM; k++) {
            struct ctx_sock_msg h;
            memcpy(&h, m, sizeof h);
            struct sockaddr_storage to;
            socklen_t tolen = resend_address(f->fd, h.from_fd, &to);
            /* a corked sender (UDP_CORK, nothing held back) sends it at once */
            int corked = 0, off = 0;
            socklen_t clen = sizeof corked;
            if (getsockopt(h.from_fd, IPPROTO_UDP, UDP_CORK, &corked, &clen) < 0)
                corked = 0;
            if (corked)
                setsockopt(h.from_fd, IPPROTO_UDP, UDP_CORK, &off, sizeof off);
            errno = 0;
            ssize_t sent = tolen ? sendto(h.from_fd, m + sizeof h, h.len, MSG_DONTWAIT,
                                          (struct sockaddr *)&to, tolen) : -1;
            int e = errno;
            if (corked)
                setsockopt(h.from_fd, IPPROTO_UDP, UDP_CORK, &corked, sizeof corked);
            errno = e;
            if (sent != (ssize_t)h.len)
                child_fail(c, errno ? errno : EINVAL, "cannot send datagram %u of %u queued to fd %d "
                           "(%s) again from fd %d: %s", k + 1, so.nmsgs, f->fd, (const char *)(f + 1),
                           h.from_fd, tolen ? strerror(errno) : "not a socket with an address");
            m += sizeof h + h.len;
        }
    }
}

static int valid_local_socket(const struct ctx_fd *f, const struct ctx_fd *const *earlier, uint32_t n)
{
    (void)earlier, (void)n;
    return valid_socket_state(f);
}

/* Saved by the socket kind (add_socket). */
const struct cr_fd_ops cr_fd_local_socket = {
    .kind = CTX_FD_SOCKET, .name = "local", .make = make_local_socket,
    .restore = restore_local_socket, .restore_nonblock = 1, .finish = after_every_fd,
    .pool = pool_add_socket,
    .valid = valid_local_socket, .describe = describe_socket, .socket = 1,
};
