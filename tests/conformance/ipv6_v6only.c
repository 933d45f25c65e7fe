/* IPV6_V6ONLY on a UDP socket bound to [::]:port: kept, so that an IPv4 socket can
 * still bind 0.0.0.0 on the same port. */
#include "conf.h"

int main(void)
{
    struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT };
    int s = socket(AF_INET6, SOCK_DGRAM, 0);
    cf_sys(s);
    cf_setint(s, IPPROTO_IPV6, IPV6_V6ONLY, 1);
    cf_sys(bind(s, (void *)&a, sizeof a));
    socklen_t len = sizeof a;
    cf_sys(getsockname(s, (void *)&a, &len));
    char want[160];
    snprintf(want, sizeof want, "%s", cf_sockname(s, 0));
    cf_ready();
    cf_wait();
    cf_check(cf_getint(s, IPPROTO_IPV6, IPV6_V6ONLY) == 1, "IPV6_V6ONLY: expected 1, got 0");
    cf_check(strcmp(cf_sockname(s, 0), want) == 0, "address: expected %s, got %s", want, cf_sockname(s, 0));
    struct sockaddr_in b = { .sin_family = AF_INET, .sin_port = a.sin6_port, .sin_addr.s_addr = htonl(INADDR_ANY) };
    int t = socket(AF_INET, SOCK_DGRAM, 0);
    cf_check(bind(t, (void *)&b, sizeof b) == 0, "IPv4 bind of 0.0.0.0:%d beside the v6-only socket: %s", ntohs(a.sin6_port),
             strerror(errno));
    cf_pass();
}
