/* A NETLINK_ROUTE socket with the answer to a request for the links not read yet:
 * read after the restart.  (Refused: what is queued to a netlink socket cannot be put
 * back; KNOWN.) */
#include "conf.h"
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

int main(void)
{
    int s = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
    cf_sys(s);
    struct { struct nlmsghdr h; struct rtgenmsg g; } req = {
        { sizeof req, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 1, 0 }, { AF_UNSPEC } };
    cf_check(send(s, &req, sizeof req, 0) == sizeof req, "send a request: %s", strerror(errno));
    cf_check(cf_readable(s, 5), "no answer to the request");
    cf_ready();
    cf_wait();
    char buf[16384];
    ssize_t n = recv(s, buf, sizeof buf, MSG_DONTWAIT);
    cf_check(n > (ssize_t)sizeof(struct nlmsghdr) && ((struct nlmsghdr *)buf)->nlmsg_type == RTM_NEWLINK,
             "the answer waiting before the checkpoint is gone: %zd bytes", n);
    cf_pass();
}
