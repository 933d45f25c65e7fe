/* SO_LINGER (on, 7 s) on a listening TCP socket. */
#include "conf.h"

int main(void)
{
    struct sockaddr_storage a;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    cf_sys(s);
    struct linger l = { 1, 7 };
    cf_sys(setsockopt(s, SOL_SOCKET, SO_LINGER, &l, sizeof l));
    cf_sys(bind(s, (void *)&a, cf_loopback(AF_INET, 0, &a)));
    cf_sys(listen(s, 4));
    cf_ready();
    cf_wait();
    struct linger g = { 0, 0 };
    socklen_t len = sizeof g;
    cf_sys(getsockopt(s, SOL_SOCKET, SO_LINGER, &g, &len));
    cf_check(g.l_onoff == 1 && g.l_linger == 7, "SO_LINGER: expected on, 7 s; got onoff %d, %d s", g.l_onoff, g.l_linger);
    cf_pass();
}
