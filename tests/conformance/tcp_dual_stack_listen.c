/* The way Open MPI listens: one TCP socket on 0.0.0.0:P and one on [::]:P with
 * IPV6_V6ONLY, both kept, each accepting a client of its own family afterwards. */
#include "conf.h"

static int accept_one(int family, int port, int listener)
{
    struct sockaddr_storage a;
    socklen_t len = cf_loopback(family, port, &a);
    int c = socket(family, SOCK_STREAM, 0);
    cf_check(c >= 0 && connect(c, (void *)&a, len) == 0, "connect to %s: %s", cf_addr_str(&a, len), strerror(errno));
    cf_check(cf_readable(listener, 5), "the %s listener did not see the client", family == AF_INET ? "IPv4" : "IPv6");
    return accept(listener, NULL, NULL);
}

int main(void)
{
    /* the port the kernel gives the IPv4 socket may be another program's on IPv6
     * (tests run side by side): then both are made again, on another port */
    struct sockaddr_in a4;
    int s4, s6, bound = 0;
    for (int tries = 0; !bound; tries++) {
        a4 = (struct sockaddr_in){ .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
        s4 = socket(AF_INET, SOCK_STREAM, 0);
        s6 = socket(AF_INET6, SOCK_STREAM, 0);
        cf_sys(s4);
        cf_sys(s6);
        cf_sys(bind(s4, (void *)&a4, sizeof a4));
        socklen_t len = sizeof a4;
        cf_sys(getsockname(s4, (void *)&a4, &len));
        cf_setint(s6, IPPROTO_IPV6, IPV6_V6ONLY, 1);
        struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT, .sin6_port = a4.sin_port };
        bound = bind(s6, (void *)&a6, sizeof a6) == 0;
        cf_check(bound || (errno == EADDRINUSE && tries < 20), "bind(s6) to [::]:%d: %s", ntohs(a4.sin_port),
                 strerror(errno));
        if (!bound) {
            close(s4);
            close(s6);
        }
    }
    cf_sys(listen(s4, 8));
    cf_sys(listen(s6, 8));
    char w4[160], w6[160];
    snprintf(w4, sizeof w4, "%s", cf_sockname(s4, 0));
    snprintf(w6, sizeof w6, "%s", cf_sockname(s6, 0));
    cf_ready();
    cf_wait();
    cf_check(cf_getint(s6, IPPROTO_IPV6, IPV6_V6ONLY) == 1, "IPV6_V6ONLY of the IPv6 listener: expected 1, got 0");
    cf_check(strcmp(cf_sockname(s4, 0), w4) == 0, "IPv4 listener: expected %s, got %s", w4, cf_sockname(s4, 0));
    cf_check(strcmp(cf_sockname(s6, 0), w6) == 0, "IPv6 listener: expected %s, got %s", w6, cf_sockname(s6, 0));
    cf_check(cf_getint(s4, SOL_SOCKET, SO_ACCEPTCONN) == 1 && cf_getint(s6, SOL_SOCKET, SO_ACCEPTCONN) == 1,
             "both sockets should still listen");
    int port = ntohs(a4.sin_port);
    cf_check(accept_one(AF_INET, port, s4) >= 0, "accept on the IPv4 listener: %s", strerror(errno));
    cf_check(accept_one(AF_INET6, port, s6) >= 0, "accept on the IPv6 listener: %s", strerror(errno));
    cf_pass();
}
