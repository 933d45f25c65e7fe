/* An SO_REUSEPORT group across families: 0.0.0.0:P and [::]:P with IPV6_V6ONLY off
 * (which takes IPv4 too), each with SO_REUSEADDR, and a connection the IPv6 one
 * accepted from an IPv4 client, data queued both ways: both listen again with their
 * options, the connection comes back with its addresses (::ffff:127.0.0.1) and data,
 * and a new IPv4 client is accepted by one of the two. */
#include "tcp_conf.h"

int main(void)
{
    struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
    int s4 = socket(AF_INET, SOCK_STREAM, 0), s6 = socket(AF_INET6, SOCK_STREAM, 0);
    cf_sys(s4);
    cf_sys(s6);
    cf_setint(s4, SOL_SOCKET, SO_REUSEPORT, 1);
    cf_setint(s6, SOL_SOCKET, SO_REUSEPORT, 1);
    cf_setint(s4, SOL_SOCKET, SO_REUSEADDR, 1);
    cf_setint(s6, SOL_SOCKET, SO_REUSEADDR, 1);
    cf_setint(s6, IPPROTO_IPV6, IPV6_V6ONLY, 0);
    cf_sys(bind(s4, (void *)&a4, sizeof a4));
    socklen_t len = sizeof a4;
    cf_sys(getsockname(s4, (void *)&a4, &len));
    struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT, .sin6_port = a4.sin_port };
    cf_sys(bind(s6, (void *)&a6, sizeof a6));
    cf_sys(listen(s6, 8));
    /* the IPv6 one alone listens while the client comes: it takes it */
    struct sockaddr_storage lo;
    socklen_t lolen = cf_loopback(AF_INET, ntohs(a4.sin_port), &lo);
    int c = tc_client(AF_INET, 0);
    cf_sys(connect(c, (void *)&lo, lolen));
    int k = accept(s6, NULL, NULL);
    cf_sys(k);
    cf_sys(listen(s4, 8));
    tc_queue(c, 1000, 1);
    tc_queue(k, 2000, 2);
    struct tc_names nc, nk;
    tc_note(c, &nc);
    tc_note(k, &nk);
    char w4[160], w6[160];
    snprintf(w4, sizeof w4, "%s", cf_sockname(s4, 0));
    snprintf(w6, sizeof w6, "%s", cf_sockname(s6, 0));
    cf_ready();
    cf_wait();
    cf_check(strcmp(cf_sockname(s4, 0), w4) == 0 && strcmp(cf_sockname(s6, 0), w6) == 0,
             "listeners: expected %s and %s, got %s and %s", w4, w6, cf_sockname(s4, 0), cf_sockname(s6, 0));
    cf_check(cf_getint(s6, IPPROTO_IPV6, IPV6_V6ONLY) == 0, "the IPv6 listener: IPV6_V6ONLY expected 0");
    cf_check(cf_getint(s4, SOL_SOCKET, SO_REUSEPORT) == 1 && cf_getint(s6, SOL_SOCKET, SO_REUSEPORT) == 1,
             "listeners: SO_REUSEPORT expected on both");
    tc_same(c, &nc, "client");
    tc_same(k, &nk, "accepted end");
    tc_expect(k, 1000, 1, "accepted end");
    tc_expect(c, 2000, 2, "client");
    int x = socket(AF_INET, SOCK_STREAM, 0);
    cf_check(x >= 0 && connect(x, (void *)&lo, lolen) == 0, "new client: connect: %s", strerror(errno));
    struct pollfd p[2] = { { s4, POLLIN, 0 }, { s6, POLLIN, 0 } };
    cf_check(poll(p, 2, 5000) > 0, "neither listener saw the new client");
    cf_pass();
}
