/* Netlink sockets (a routing or audit listener, a uevent reader): saved with their
 * protocol, options, port, multicast memberships and destination; made again with
 * them at restart.  What is queued to one (notifications, answers not read yet) and a
 * dump the kernel is still answering cannot be put back: refused by name. */
#define _GNU_SOURCE
#include "resources.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/netlink_diag.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "context_reader.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

static const struct { int opt; uint32_t flag; } switches[] = {
    { NETLINK_PKTINFO, CTX_NETLINK_PKTINFO },
    { NETLINK_BROADCAST_ERROR, CTX_NETLINK_BROADCAST_ERROR },
    { NETLINK_NO_ENOBUFS, CTX_NETLINK_NO_ENOBUFS },
    { NETLINK_LISTEN_ALL_NSID, CTX_NETLINK_LISTEN_ALL_NSID },
    { NETLINK_CAP_ACK, CTX_NETLINK_CAP_ACK },
    { NETLINK_EXT_ACK, CTX_NETLINK_EXT_ACK },
    { NETLINK_GET_STRICT_CHK, CTX_NETLINK_GET_STRICT_CHK },
};
#define NSWITCHES (sizeof switches / sizeof *switches)

/* ---- dump ---- */

static int detect_netlink(const struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    (void)d, (void)s;
    int domain = 0;
    socklen_t len = sizeof domain;
    return S_ISSOCK(p->st.st_mode) && getsockopt(p->fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 &&
           domain == AF_NETLINK;
}

struct dump_running_query {
    uint32_t ino;
    int running;
};

static void dump_running_of(const struct nlmsghdr *h, void *arg)
{
    struct dump_running_query *q = arg;
    const struct netlink_diag_msg *m = NLMSG_DATA(h);
    if (m->ndiag_ino != q->ino)
        return;
    q->running = 0;
    int alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof *m));
    for (const struct rtattr *a = (const struct rtattr *)(m + 1); RTA_OK(a, alen); a = RTA_NEXT(a, alen))
        if (a->rta_type == NETLINK_DIAG_FLAGS && (*(const uint32_t *)RTA_DATA(a) & NDIAG_FLAG_CB_RUNNING))
            q->running = 1;
}

/* Whether the kernel is still answering a dump request on the socket of inode ino
 * (its next read would bring more): 1, 0, or -1 when sock_diag cannot tell.
 * buf: SOCK_DIAG_BUF bytes. */
static int dump_running(int protocol, uint64_t ino, char *buf)
{
    struct {
        struct nlmsghdr nh;
        struct netlink_diag_req req;
    } msg;
    memset(&msg, 0, sizeof msg);
    msg.nh.nlmsg_len = sizeof msg;
    msg.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    msg.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    msg.req.sdiag_family = AF_NETLINK;
    msg.req.sdiag_protocol = (uint8_t)protocol;
    msg.req.ndiag_ino = (uint32_t)ino;
    msg.req.ndiag_show = NDIAG_SHOW_FLAGS;
    struct dump_running_query q = { (uint32_t)ino, -1 };
    return sock_diag_dump(&msg, sizeof msg, buf, dump_running_of, &q) < 0 ? -1 : q.running;
}

static int save_netlink(struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    (void)s;
    int fd = p->fd;
    static struct ctx_socket so; /* the dump runs in one thread at a time */
    static struct ctx_netlink nl;
    memset(&so, 0, sizeof so);
    memset(&nl, 0, sizeof nl);
    so.domain = AF_NETLINK;
    socklen_t len = sizeof so.type;
    getsockopt(fd, SOL_SOCKET, SO_TYPE, &so.type, &len);
    len = sizeof so.protocol;
    getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &so.protocol, &len);
    char text[160];
    snprintf(text, sizeof text, "netlink socket (protocol %d)", so.protocol);
    if (shared_in_tree(d, fd))
        return fail(d, ENOTSUP, "fd %d is a %s shared by processes of the tree, which this "
                    "version makes again only for one process", fd, text);
    char *buf = d->scratch + FDINFO_OFF;
    if (dump_running(so.protocol, p->st.st_ino, buf) == 1)
        return fail(d, EAGAIN, "fd %d (%s) is receiving the answer to a dump request, which the "
                    "kernel goes on with only for that socket (a new one would get none of the "
                    "rest, and the dump cannot be asked again as it was); try again once the "
                    "program has read it", fd, text);
    /* (netlink has no FIONREAD: a peek tells the length of the first message) */
    char one;
    ssize_t queued = recv(fd, &one, 1, MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC);
    if (queued > 0)
        return fail(d, EAGAIN, "fd %d (%s) has messages queued to it (notifications or answers "
                    "not read yet, the first of %zd bytes), which cannot be put back: they came "
                    "from the kernel (port 0), as which nothing else sends, and Linux lets a "
                    "process send to another's socket of this protocol only with CAP_NET_ADMIN "
                    "(EPERM), so a new socket could not be made readable with them; try again "
                    "once the program has read them", fd, text, queued);
    struct sockaddr_nl self, peer;
    socklen_t slen = sizeof self, plen = sizeof peer;
    memset(&self, 0, sizeof self);
    memset(&peer, 0, sizeof peer);
    if (getsockname(fd, (struct sockaddr *)&self, &slen) < 0)
        return fail(d, errno, "fd %d (%s): cannot read its address: %s", fd, text, strerror(errno));
    nl.portid = self.nl_pid;
    /* the kernel's choice (the process's pid, not the dumper's: the ptrace backend is
     * another process; or a negative number when that was taken) */
    nl.own_port = self.nl_pid == (uint32_t)d->proc->pid || (int32_t)self.nl_pid < 0;
    if (getpeername(fd, (struct sockaddr *)&peer, &plen) == 0) {
        nl.dst_portid = peer.nl_pid;
        nl.dst_group = peer.nl_groups;
    }
    len = sizeof nl.groups;
    if (getsockopt(fd, SOL_NETLINK, NETLINK_LIST_MEMBERSHIPS, nl.groups, &len) < 0)
        memset(nl.groups, 0, sizeof nl.groups);
    else if (len > sizeof nl.groups)
        return fail(d, E2BIG, "fd %d (%s) belongs to multicast groups above %zu, more than this "
                    "version saves", fd, text, 8 * sizeof nl.groups);
    for (size_t i = 0; i < NSWITCHES; i++) {
        int v = 0;
        len = sizeof v;
        if (getsockopt(fd, SOL_NETLINK, switches[i].opt, &v, &len) == 0 && v)
            nl.flags |= switches[i].flag;
    }
    if (sock_save_opts(fd, &so) < 0)
        return fail(d, E2BIG, "fd %d (%s) has more than %d socket options changed", fd, text,
                    CTX_SOCKOPT_MAX);
    struct ctx_fd *r = sock_record(d, fd, CTX_FD_NETLINK, text, sizeof so + sizeof nl, &p->st);
    if (!r)
        return fail(d, E2BIG, "too much metadata");
    memcpy((char *)(r + 1) + r->path_len, &so, sizeof so);
    memcpy((char *)(r + 1) + r->path_len + sizeof so, &nl, sizeof nl);
    return 0;
}

/* ---- restart ---- */

static void netlink_state(const struct ctx_fd *f, struct ctx_socket *so, struct ctx_netlink *nl)
{
    memcpy(so, fd_rec_extra(f), sizeof *so);
    memcpy(nl, fd_rec_extra(f) + sizeof *so, sizeof *nl);
}

static int make_netlink(struct child *c, const struct ctx_fd *f, uint32_t rec)
{
    (void)rec;
    struct ctx_socket so;
    struct ctx_netlink nl;
    netlink_state(f, &so, &nl);
    const char *what = (const char *)(f + 1);
    int s = socket(AF_NETLINK, so.type | SOCK_CLOEXEC, so.protocol);
    if (s < 0)
        child_fail(c, errno, "cannot create the socket of fd %d (%s): %s", f->fd, what, strerror(errno));
    sock_apply_opts(c, s, f, &so);
    for (size_t i = 0; i < NSWITCHES; i++) {
        int one = 1;
        if ((nl.flags & switches[i].flag) && setsockopt(s, SOL_NETLINK, switches[i].opt, &one, sizeof one) < 0)
            child_fail(c, errno, "cannot switch option %d of fd %d (%s) on again: %s", switches[i].opt,
                       f->fd, what, strerror(errno));
    }
    /* a port the kernel numbered after the pid: that number again when the program
     * goes on seeing its old pid (its image has the runtime's table, libcr/pid_map.c:
     * a restart with new pids would number it after the new one, while the program
     * may have kept the old, which its replies carried); without the table (the
     * ptrace backend's image) the kernel numbers it after the pid the program sees
     * now; a negative one the kernel chose: any */
    int same_port = !nl.own_port || ((int32_t)nl.portid > 0 && c->img->pid_map);
    struct sockaddr_nl a = { .nl_family = AF_NETLINK, .nl_pid = same_port ? nl.portid : 0 };
    if (nl.portid && bind(s, (struct sockaddr *)&a, sizeof a) < 0)
        child_fail(c, errno, "cannot bind fd %d (%s) again to port %u: %s%s", f->fd, what,
                   a.nl_pid, strerror(errno), errno == EADDRINUSE ? " (another socket has that port "
                   "now: end the program that has it, then restart)" : "");
    for (uint32_t g = 1; g <= 8 * sizeof nl.groups; g++)
        if ((nl.groups[(g - 1) / 32] >> ((g - 1) % 32)) & 1)
            if (setsockopt(s, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g, sizeof g) < 0)
                child_fail(c, errno, "cannot join fd %d (%s) to multicast group %u again: %s",
                           f->fd, what, g, strerror(errno));
    struct sockaddr_nl to = { .nl_family = AF_NETLINK, .nl_pid = nl.dst_portid, .nl_groups = nl.dst_group };
    if ((nl.dst_portid || nl.dst_group) && connect(s, (struct sockaddr *)&to, sizeof to) < 0)
        child_fail(c, errno, "cannot connect fd %d (%s) again to port %u, groups %#x: %s", f->fd,
                   what, nl.dst_portid, nl.dst_group, strerror(errno));
    return s;
}

static int valid_netlink(const struct ctx_fd *f, const struct ctx_fd *const *earlier, uint32_t n)
{
    (void)earlier, (void)n;
    struct ctx_socket so;
    struct ctx_netlink nl;
    if (f->extra_len != sizeof so + sizeof nl)
        return 0;
    netlink_state(f, &so, &nl);
    return so.domain == AF_NETLINK && (so.type == SOCK_RAW || so.type == SOCK_DGRAM) &&
           so.protocol >= 0 && so.protocol < 32 && !so.state && !so.shutdown && !so.backlog &&
           !so.addr_len && !so.peer_len && so.nopts <= CTX_SOCKOPT_MAX && !so.nmsgs &&
           nl.own_port <= 1 && !(nl.flags & ~(uint32_t)CTX_NETLINK_FLAGS);
}

static void describe_netlink(const struct ctx_fd *f, FILE *out, const char *acc)
{
    struct ctx_socket so;
    struct ctx_netlink nl;
    netlink_state(f, &so, &nl);
    unsigned groups = 0;
    for (size_t i = 0; i < sizeof nl.groups / sizeof *nl.groups; i++)
        groups += (unsigned)__builtin_popcount(nl.groups[i]);
    fd_line(out, f, ctx_fd_kind_name(f->kind), acc);
    fprintf(out, "  %s, %s %u, %u multicast groups, %s, %u options set\n", fd_rec_path(f),
            nl.own_port ? "a port the kernel gives, was" : "bound to port", nl.portid, groups,
            nl.dst_portid || nl.dst_group ? "connected" : "not connected", so.nopts);
}

const struct cr_fd_ops cr_fd_netlink = {
    .kind = CTX_FD_NETLINK, .name = "netlink", .detect = detect_netlink, .save = save_netlink,
    .make = make_netlink, .restore_nonblock = 1,
    .valid = valid_netlink, .describe = describe_netlink, .socket = 1,
};
