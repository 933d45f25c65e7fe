/* A NETLINK_ROUTE socket bound (its port the kernel's choice, the pid) to the link
 * multicast group, with NETLINK_NO_ENOBUFS: after the restart it is still so, its port
 * the pid it has then, and it answers a request for the links. */
#include "conf.h"
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

int main(void)
{
    int s = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
    cf_sys(s);
    struct sockaddr_nl a = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
    cf_sys(bind(s, (void *)&a, sizeof a));
    int one = 1;
    cf_sys(setsockopt(s, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof one));
    cf_ready();
    cf_wait();
    cf_check(cf_getint(s, SOL_SOCKET, SO_PROTOCOL) == NETLINK_ROUTE, "not a NETLINK_ROUTE socket any more");
    struct sockaddr_nl b;
    socklen_t len = sizeof b;
    cf_sys(getsockname(s, (void *)&b, &len));
    cf_check(b.nl_family == AF_NETLINK && b.nl_groups == RTMGRP_LINK, "groups: expected %x, got %x",
             RTMGRP_LINK, b.nl_groups);
    int v = 0;
    socklen_t vl = sizeof v;
    cf_check(getsockopt(s, SOL_NETLINK, NETLINK_NO_ENOBUFS, &v, &vl) == 0 && v == 1, "NETLINK_NO_ENOBUFS was lost");
    cf_check(b.nl_pid == (uint32_t)getpid(), "port: expected the process's pid %d, got %u", (int)getpid(), b.nl_pid);
    struct { struct nlmsghdr h; struct rtgenmsg g; } req = {
        { sizeof req, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 1, 0 }, { AF_UNSPEC } };
    cf_check(send(s, &req, sizeof req, 0) == sizeof req, "send a request: %s", strerror(errno));
    char buf[16384];
    cf_check(cf_readable(s, 5), "no answer to the request");
    ssize_t n = recv(s, buf, sizeof buf, 0);
    cf_check(n > (ssize_t)sizeof(struct nlmsghdr) && ((struct nlmsghdr *)buf)->nlmsg_type == RTM_NEWLINK,
             "the answer is not a link: %zd bytes", n);
    cf_pass();
}
