/* Datagrams queued to a UDP socket that asks for IP_PKTINFO, IP_RECVTTL and
 * SO_TIMESTAMP with each: they come out whole, in order, from their sender, each with
 * its IP_PKTINFO. */
#include "conf.h"

int main(void)
{
    struct sockaddr_storage a, b;
    int s = socket(AF_INET, SOCK_DGRAM, 0), c = socket(AF_INET, SOCK_DGRAM, 0);
    cf_sys(s);
    cf_sys(c);
    socklen_t alen = cf_loopback(AF_INET, 0, &a), blen = cf_loopback(AF_INET, 0, &b);
    cf_sys(bind(s, (void *)&a, alen));
    cf_sys(bind(c, (void *)&b, blen));
    alen = sizeof a;
    blen = sizeof b;
    cf_sys(getsockname(s, (void *)&a, &alen));
    cf_sys(getsockname(c, (void *)&b, &blen));
    cf_setint(s, IPPROTO_IP, IP_PKTINFO, 1);
    cf_setint(s, IPPROTO_IP, IP_RECVTTL, 1);
    cf_setint(s, SOL_SOCKET, SO_TIMESTAMP, 1);
    static const char *msg[] = { "alpha", "beta" };
    for (int i = 0; i < 2; i++)
        cf_check(sendto(c, msg[i], strlen(msg[i]), 0, (void *)&a, alen) == (ssize_t)strlen(msg[i]), "sendto: %s",
                 strerror(errno));
    cf_check(cf_readable(s, 5), "the datagrams did not arrive");
    char from_c[160];
    snprintf(from_c, sizeof from_c, "%s", cf_addr_str(&b, blen));
    cf_ready();
    cf_wait();
    for (int i = 0; i < 2; i++) {
        char data[16] = "", ctl[512];
        struct sockaddr_storage from;
        struct iovec iov = { data, sizeof data };
        struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1,
                             .msg_control = ctl, .msg_controllen = sizeof ctl };
        ssize_t n = recvmsg(s, &mh, MSG_DONTWAIT);
        cf_check(n == (ssize_t)strlen(msg[i]) && memcmp(data, msg[i], (size_t)n) == 0, "datagram %d: expected '%s', got %zd (%s)",
                 i + 1, msg[i], n, n < 0 ? strerror(errno) : data);
        cf_check(strcmp(cf_addr_str(&from, mh.msg_namelen), from_c) == 0, "datagram %d: expected from %s, got from %s", i + 1,
                 from_c, cf_addr_str(&from, mh.msg_namelen));
        int pktinfo = 0;
        for (struct cmsghdr *h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h))
            pktinfo |= h->cmsg_level == IPPROTO_IP && h->cmsg_type == IP_PKTINFO;
        cf_check(pktinfo, "datagram %d came without IP_PKTINFO", i + 1);
    }
    cf_pass();
}
