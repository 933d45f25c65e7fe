/* A listening TCP socket on the loopback: same address, still listening, accepts a
 * client afterwards and talks with it. */
#include "conf.h"

int main(void)
{
    struct sockaddr_storage a;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    cf_sys(s);
    socklen_t len = cf_loopback(AF_INET, 0, &a);
    cf_sys(bind(s, (void *)&a, len));
    cf_sys(listen(s, 5));
    len = sizeof a;
    cf_sys(getsockname(s, (void *)&a, &len));
    char want[160];
    snprintf(want, sizeof want, "%s", cf_addr_str(&a, len));
    cf_ready();
    cf_wait();
    cf_check(strcmp(cf_sockname(s, 0), want) == 0, "address: expected %s, got %s", want, cf_sockname(s, 0));
    cf_check(cf_getint(s, SOL_SOCKET, SO_ACCEPTCONN) == 1, "SO_ACCEPTCONN: expected 1 (listening)");
    int c = socket(AF_INET, SOCK_STREAM, 0);
    cf_check(connect(c, (void *)&a, len) == 0, "connect to %s: %s", want, strerror(errno));
    cf_check(cf_readable(s, 5), "no connection to accept");
    int k = accept(s, NULL, NULL);
    cf_check(k >= 0, "accept: %s", strerror(errno));
    char b = 0;
    cf_check(write(c, "t", 1) == 1 && cf_readable(k, 5) && read(k, &b, 1) == 1 && b == 't', "no data over the accepted connection");
    cf_pass();
}
