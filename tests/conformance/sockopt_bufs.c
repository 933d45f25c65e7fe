/* SO_RCVBUF and SO_SNDBUF set by the program on a bound UDP socket. */
#include "conf.h"

int main(void)
{
    struct sockaddr_storage a;
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    cf_sys(s);
    cf_setint(s, SOL_SOCKET, SO_RCVBUF, 70000);
    cf_setint(s, SOL_SOCKET, SO_SNDBUF, 90000);
    cf_sys(bind(s, (void *)&a, cf_loopback(AF_INET, 0, &a)));
    int rcv = cf_getint(s, SOL_SOCKET, SO_RCVBUF), snd = cf_getint(s, SOL_SOCKET, SO_SNDBUF);
    cf_ready();
    cf_wait();
    int r = cf_getint(s, SOL_SOCKET, SO_RCVBUF), w = cf_getint(s, SOL_SOCKET, SO_SNDBUF);
    cf_check(r == rcv && w == snd, "SO_RCVBUF/SO_SNDBUF: expected %d/%d, got %d/%d", rcv, snd, r, w);
    cf_pass();
}
