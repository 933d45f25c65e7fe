/* TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT on a listening TCP socket. */
#include "conf.h"

int main(void)
{
    struct sockaddr_storage a;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    cf_sys(s);
    cf_setint(s, IPPROTO_TCP, TCP_KEEPIDLE, 77);
    cf_setint(s, IPPROTO_TCP, TCP_KEEPINTVL, 11);
    cf_setint(s, IPPROTO_TCP, TCP_KEEPCNT, 5);
    cf_sys(bind(s, (void *)&a, cf_loopback(AF_INET, 0, &a)));
    cf_sys(listen(s, 4));
    cf_ready();
    cf_wait();
    int idle = cf_getint(s, IPPROTO_TCP, TCP_KEEPIDLE), intvl = cf_getint(s, IPPROTO_TCP, TCP_KEEPINTVL),
        cnt = cf_getint(s, IPPROTO_TCP, TCP_KEEPCNT);
    cf_check(idle == 77 && intvl == 11 && cnt == 5, "KEEPIDLE/KEEPINTVL/KEEPCNT: expected 77/11/5, got %d/%d/%d", idle, intvl, cnt);
    cf_pass();
}
