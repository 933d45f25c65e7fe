/* A UDP socket bound to the loopback address, unconnected: same address and port,
 * and a datagram sent there afterwards arrives. */
#include "conf.h"
#ifndef FAMILY
#define FAMILY AF_INET
#endif

int main(void)
{
    struct sockaddr_storage a;
    int s = socket(FAMILY, SOCK_DGRAM, 0);
    cf_sys(s);
    socklen_t len = cf_loopback(FAMILY, 0, &a);
    cf_sys(bind(s, (void *)&a, len));
    len = sizeof a;
    cf_sys(getsockname(s, (void *)&a, &len));
    char want[160];
    snprintf(want, sizeof want, "%s", cf_addr_str(&a, len));
    cf_ready();
    cf_wait();
    cf_check(strcmp(cf_sockname(s, 0), want) == 0, "address: expected %s, got %s", want, cf_sockname(s, 0));
    int c = socket(FAMILY, SOCK_DGRAM, 0);
    cf_check(sendto(c, "udp", 3, 0, (void *)&a, len) == 3, "sendto %s: %s", want, strerror(errno));
    cf_check(cf_readable(s, 5), "the datagram sent to %s did not arrive", want);
    char buf[8] = "";
    cf_check(recv(s, buf, sizeof buf, 0) == 3 && memcmp(buf, "udp", 3) == 0, "received '%s'", buf);
    cf_pass();
}
