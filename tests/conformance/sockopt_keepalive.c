/* SO_KEEPALIVE on a listening TCP socket. */
#include "conf.h"

int main(void)
{
    struct sockaddr_storage a;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    cf_sys(s);
    cf_setint(s, SOL_SOCKET, SO_KEEPALIVE, 1);
    cf_sys(bind(s, (void *)&a, cf_loopback(AF_INET, 0, &a)));
    cf_sys(listen(s, 4));
    cf_ready();
    cf_wait();
    cf_check(cf_getint(s, SOL_SOCKET, SO_KEEPALIVE) == 1, "SO_KEEPALIVE: expected 1, got 0");
    cf_pass();
}
