/* SO_BROADCAST on a bound UDP socket. */
#include "conf.h"

int main(void)
{
    struct sockaddr_storage a;
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    cf_sys(s);
    cf_setint(s, SOL_SOCKET, SO_BROADCAST, 1);
    cf_sys(bind(s, (void *)&a, cf_loopback(AF_INET, 0, &a)));
    cf_ready();
    cf_wait();
    cf_check(cf_getint(s, SOL_SOCKET, SO_BROADCAST) == 1, "SO_BROADCAST: expected 1, got 0");
    cf_pass();
}
