/* A TCP socket never bound: still TCP, and usable afterwards (it listens and
 * accepts a client). */
#include "conf.h"

int main(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    cf_sys(s);
    cf_ready();
    cf_wait();
    cf_check(cf_getint(s, SOL_SOCKET, SO_DOMAIN) == AF_INET, "SO_DOMAIN: expected AF_INET, got %d", cf_getint(s, SOL_SOCKET, SO_DOMAIN));
    cf_check(cf_getint(s, SOL_SOCKET, SO_PROTOCOL) == IPPROTO_TCP, "SO_PROTOCOL: expected TCP, got %d",
             cf_getint(s, SOL_SOCKET, SO_PROTOCOL));
    struct sockaddr_storage a;
    socklen_t len = cf_loopback(AF_INET, 0, &a);
    cf_check(bind(s, (void *)&a, len) == 0, "bind afterwards: %s", strerror(errno));
    cf_sys(listen(s, 1));
    len = sizeof a;
    cf_sys(getsockname(s, (void *)&a, &len));
    int c = socket(AF_INET, SOCK_STREAM, 0);
    cf_check(connect(c, (void *)&a, len) == 0, "connect to it: %s", strerror(errno));
    cf_check(accept(s, NULL, NULL) >= 0, "accept: %s", strerror(errno));
    cf_pass();
}
