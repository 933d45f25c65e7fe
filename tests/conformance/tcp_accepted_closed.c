/* A listening TCP socket (SO_REUSEADDR, as servers do: the closed connection waits
 * in TIME_WAIT on its port) whose one connection was accepted and closed by the
 * program: nothing waits to be accepted afterwards (the client's connection is not
 * made again as a new one). */
#include "conf.h"

int main(void)
{
    struct sockaddr_storage a;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    cf_sys(s);
    cf_setint(s, SOL_SOCKET, SO_REUSEADDR, 1);
    socklen_t len = cf_loopback(AF_INET, 0, &a);
    cf_sys(bind(s, (void *)&a, len));
    cf_sys(listen(s, 5));
    len = sizeof a;
    cf_sys(getsockname(s, (void *)&a, &len));
    int c = socket(AF_INET, SOCK_STREAM, 0);
    cf_sys(connect(c, (void *)&a, len));
    int k = accept(s, NULL, NULL);
    cf_sys(k);
    cf_sys(close(k));
    cf_check(cf_readable(c, 5), "the client did not see the close");
    cf_ready();
    cf_wait();
    cf_check(!cf_readable(s, 0.5), "a connection waits to be accepted on the listener after the only one was accepted and closed");
    (void)c;
    cf_pass();
}
