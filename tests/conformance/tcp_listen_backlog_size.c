/* TCP listeners with the backlogs their program gave listen() (3 on IPv4, 7 on IPv6)
 * and options (SO_REUSEADDR, TCP_DEFER_ACCEPT, keepalive): the same after, as the
 * kernel tells (sock_diag: a listener's send queue is its backlog). */
#include "tcp_conf.h"
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

/* the backlog of the TCP listener of family on port, from sock_diag (-1: not found) */
static int diag_backlog(int family, int port)
{
    int nl = socket(AF_NETLINK, SOCK_DGRAM, NETLINK_SOCK_DIAG);
    cf_sys(nl);
    struct {
        struct nlmsghdr nh;
        struct inet_diag_req_v2 r;
    } q;
    memset(&q, 0, sizeof q);
    q.nh.nlmsg_len = sizeof q;
    q.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    q.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    q.r.sdiag_family = (unsigned char)family;
    q.r.sdiag_protocol = IPPROTO_TCP;
    q.r.idiag_states = 1 << TCP_LISTEN;
    cf_check(send(nl, &q, sizeof q, 0) == sizeof q, "sock_diag: %s", strerror(errno));
    static char buf[1 << 16];
    int found = -1;
    for (int done = 0; !done;) {
        ssize_t n = recv(nl, buf, sizeof buf, 0);
        cf_check(n > 0, "sock_diag: %s", n < 0 ? strerror(errno) : "no answer");
        for (struct nlmsghdr *h = (void *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
                done = 1;
                break;
            }
            struct inet_diag_msg *m = NLMSG_DATA(h);
            if (ntohs(m->id.idiag_sport) == port)
                found = (int)m->idiag_wqueue;
        }
    }
    close(nl);
    return found;
}

static int port_of(int s)
{
    struct sockaddr_storage a;
    socklen_t len = sizeof a;
    cf_sys(getsockname(s, (void *)&a, &len));
    return a.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&a)->sin_port)
                                  : ntohs(((struct sockaddr_in6 *)&a)->sin6_port);
}

int main(void)
{
    int fam[2] = { TC_V4, TC_V6 }, backlog[2] = { 3, 7 }, l[2];
    for (int i = 0; i < 2; i++) {
        struct sockaddr_storage a;
        l[i] = socket(fam[i] == TC_V4 ? AF_INET : AF_INET6, SOCK_STREAM, 0);
        cf_sys(l[i]);
        cf_setint(l[i], SOL_SOCKET, SO_REUSEADDR, 1);
        cf_setint(l[i], IPPROTO_TCP, TCP_DEFER_ACCEPT, 5);
        cf_setint(l[i], SOL_SOCKET, SO_KEEPALIVE, 1);
        socklen_t len = cf_loopback(fam[i] == TC_V4 ? AF_INET : AF_INET6, 0, &a);
        cf_sys(bind(l[i], (void *)&a, len));
        cf_sys(listen(l[i], backlog[i]));
        cf_check(diag_backlog(a.ss_family, port_of(l[i])) == backlog[i], "before: backlog %d not seen", backlog[i]);
    }
    cf_ready();
    cf_wait();
    for (int i = 0; i < 2; i++) {
        int family = fam[i] == TC_V4 ? AF_INET : AF_INET6, got = diag_backlog(family, port_of(l[i]));
        cf_check(got == backlog[i], "listener %d: backlog expected %d, got %d", i + 1, backlog[i], got);
        cf_check(cf_getint(l[i], SOL_SOCKET, SO_REUSEADDR) == 1 && cf_getint(l[i], SOL_SOCKET, SO_KEEPALIVE) == 1 &&
                 cf_getint(l[i], IPPROTO_TCP, TCP_DEFER_ACCEPT) > 0,
                 "listener %d: SO_REUSEADDR, SO_KEEPALIVE, TCP_DEFER_ACCEPT expected on, got %d %d %d", i + 1,
                 cf_getint(l[i], SOL_SOCKET, SO_REUSEADDR), cf_getint(l[i], SOL_SOCKET, SO_KEEPALIVE),
                 cf_getint(l[i], IPPROTO_TCP, TCP_DEFER_ACCEPT));
    }
    cf_pass();
}
