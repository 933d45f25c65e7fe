/* Options of other shapes set by the program: a timeval (SO_RCVTIMEO), a name
 * (TCP_CONGESTION), small integers (SO_PRIORITY, IP_TOS, IP_TTL, IPV6_UNICAST_HOPS),
 * on an unbound TCP socket and a bound UDP6 one. */
#include "conf.h"

int main(void)
{
    int t = socket(AF_INET, SOCK_STREAM, 0), u = socket(AF_INET6, SOCK_DGRAM, 0);
    cf_sys(t);
    cf_sys(u);
    struct timeval tv = { 3, 500000 }; /* whole jiffies at any HZ */
    cf_sys(setsockopt(t, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
    cf_sys(setsockopt(t, IPPROTO_TCP, TCP_CONGESTION, "reno", 4));
    cf_setint(t, IPPROTO_IP, IP_TOS, 0x20);
    cf_setint(t, SOL_SOCKET, SO_PRIORITY, 5); /* after IP_TOS, which sets it too */
    cf_setint(t, IPPROTO_IP, IP_TTL, 17);
    struct sockaddr_storage a;
    cf_sys(bind(u, (void *)&a, cf_loopback(AF_INET6, 0, &a)));
    cf_setint(u, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 9);
    cf_ready();
    cf_wait();
    struct timeval got = { 0, 0 };
    socklen_t len = sizeof got;
    cf_sys(getsockopt(t, SOL_SOCKET, SO_RCVTIMEO, &got, &len));
    cf_check(got.tv_sec == 3 && got.tv_usec == 500000, "SO_RCVTIMEO: expected 3.500000 s, got %ld.%06ld s", (long)got.tv_sec,
             (long)got.tv_usec);
    char cc[16] = "";
    len = sizeof cc;
    cf_sys(getsockopt(t, IPPROTO_TCP, TCP_CONGESTION, cc, &len));
    cf_check(strcmp(cc, "reno") == 0, "TCP_CONGESTION: expected reno, got %s", cc);
    cf_check(cf_getint(t, SOL_SOCKET, SO_PRIORITY) == 5, "SO_PRIORITY: expected 5, got %d", cf_getint(t, SOL_SOCKET, SO_PRIORITY));
    cf_check(cf_getint(t, IPPROTO_IP, IP_TOS) == 0x20, "IP_TOS: expected 0x20, got 0x%x", cf_getint(t, IPPROTO_IP, IP_TOS));
    cf_check(cf_getint(t, IPPROTO_IP, IP_TTL) == 17, "IP_TTL: expected 17, got %d", cf_getint(t, IPPROTO_IP, IP_TTL));
    cf_check(cf_getint(u, IPPROTO_IPV6, IPV6_UNICAST_HOPS) == 9, "IPV6_UNICAST_HOPS: expected 9, got %d",
             cf_getint(u, IPPROTO_IPV6, IPV6_UNICAST_HOPS));
    cf_pass();
}
