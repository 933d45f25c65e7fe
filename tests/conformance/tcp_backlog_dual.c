/* An IPv6 listener on [::]:P taking IPv4 too (IPV6_V6ONLY off) with an IPv4 client of
 * the process in its backlog, not accepted yet, that sent a line: accepted afterwards
 * (from ::ffff:127.0.0.1) with its line, the client with its address, still talking. */
#include "tcp_conf.h"

int main(void)
{
    int l = socket(AF_INET6, SOCK_STREAM, 0);
    cf_sys(l);
    cf_setint(l, IPPROTO_IPV6, IPV6_V6ONLY, 0);
    struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT };
    cf_sys(bind(l, (void *)&a6, sizeof a6));
    cf_sys(listen(l, 4));
    socklen_t len = sizeof a6;
    cf_sys(getsockname(l, (void *)&a6, &len));
    struct sockaddr_storage a;
    len = cf_loopback(AF_INET, ntohs(a6.sin6_port), &a);
    int c = tc_client(AF_INET, 0);
    cf_sys(connect(c, (void *)&a, len));
    tc_queue(c, 3000, 5);
    struct tc_names n;
    tc_note(c, &n);
    cf_ready();
    cf_wait();
    tc_same(c, &n, "client");
    cf_check(cf_readable(l, 5), "the client is not there to accept");
    int k = accept(l, NULL, NULL);
    cf_sys(k);
    cf_check(cf_getint(k, SOL_SOCKET, SO_DOMAIN) == AF_INET6, "the accepted end is not IPv6");
    tc_expect(k, 3000, 5, "accepted end");
    cf_write_all(k, "ok", 2);
    char b[2];
    cf_check(cf_readable(c, 5) && recv(c, b, 2, 0) == 2, "the client did not get the reply");
    cf_pass();
}
