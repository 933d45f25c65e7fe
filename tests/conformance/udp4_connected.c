/* Two UDP sockets on the loopback, the second connected to the first: its peer
 * stays, and datagrams go both ways afterwards. */
#include "conf.h"
#ifndef FAMILY
#define FAMILY AF_INET
#endif

int main(void)
{
    struct sockaddr_storage a, b;
    int s = socket(FAMILY, SOCK_DGRAM, 0), c = socket(FAMILY, SOCK_DGRAM, 0);
    cf_sys(s);
    cf_sys(c);
    socklen_t alen = cf_loopback(FAMILY, 0, &a);
    cf_sys(bind(s, (void *)&a, alen));
    alen = sizeof a;
    cf_sys(getsockname(s, (void *)&a, &alen));
    cf_sys(connect(c, (void *)&a, alen));
    socklen_t blen = sizeof b;
    cf_sys(getsockname(c, (void *)&b, &blen));
    char wa[160], wb[160];
    snprintf(wa, sizeof wa, "%s", cf_addr_str(&a, alen));
    snprintf(wb, sizeof wb, "%s", cf_addr_str(&b, blen));
    cf_ready();
    cf_wait();
    cf_check(strcmp(cf_sockname(c, 1), wa) == 0, "peer of the connected socket: expected %s, got %s", wa, cf_sockname(c, 1));
    cf_check(strcmp(cf_sockname(c, 0), wb) == 0, "its own address: expected %s, got %s", wb, cf_sockname(c, 0));
    cf_check(send(c, "ping", 4, 0) == 4, "send on the connected socket: %s", strerror(errno));
    cf_check(cf_readable(s, 5), "the datagram did not reach %s", wa);
    char buf[8] = "";
    struct sockaddr_storage from;
    socklen_t flen = sizeof from;
    cf_check(recvfrom(s, buf, sizeof buf, 0, (void *)&from, &flen) == 4 && memcmp(buf, "ping", 4) == 0, "received '%s'", buf);
    cf_check(strcmp(cf_addr_str(&from, flen), wb) == 0, "sender: expected %s, got %s", wb, cf_addr_str(&from, flen));
    cf_check(sendto(s, "pong", 4, 0, (void *)&from, flen) == 4, "sendto back: %s", strerror(errno));
    cf_check(cf_readable(c, 5), "the reply did not reach %s", wb);
    cf_check(recv(c, buf, sizeof buf, 0) == 4 && memcmp(buf, "pong", 4) == 0, "reply '%s'", buf);
    cf_pass();
}
