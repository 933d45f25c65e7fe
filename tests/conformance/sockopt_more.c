/* Socket options ordinary programs set beyond the usual ones: on a bound UDP socket
 * SO_RXQ_OVFL, SO_SELECT_ERR_QUEUE, UDP_SEGMENT and UDP_GRO; on a TCP listener
 * SO_ZEROCOPY and TCP_THIN_LINEAR_TIMEOUTS: each as set after the restart. */
#include "conf.h"
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <sys/socket.h>

int main(void)
{
    struct sockaddr_storage a;
    int u = socket(AF_INET, SOCK_DGRAM, 0), t = socket(AF_INET, SOCK_STREAM, 0);
    cf_sys(u);
    cf_sys(t);
    cf_setint(u, SOL_SOCKET, SO_RXQ_OVFL, 1);
    cf_setint(u, SOL_SOCKET, SO_SELECT_ERR_QUEUE, 1);
    cf_setint(u, IPPROTO_UDP, UDP_SEGMENT, 1000);
    cf_setint(u, IPPROTO_UDP, UDP_GRO, 1);
    cf_sys(bind(u, (void *)&a, cf_loopback(AF_INET, 0, &a)));
    cf_setint(t, SOL_SOCKET, SO_ZEROCOPY, 1);
    cf_setint(t, IPPROTO_TCP, TCP_THIN_LINEAR_TIMEOUTS, 1);
    cf_sys(bind(t, (void *)&a, cf_loopback(AF_INET, 0, &a)));
    cf_sys(listen(t, 4));
    cf_ready();
    cf_wait();
    cf_check(cf_getint(u, SOL_SOCKET, SO_RXQ_OVFL) == 1, "SO_RXQ_OVFL lost");
    cf_check(cf_getint(u, SOL_SOCKET, SO_SELECT_ERR_QUEUE) == 1, "SO_SELECT_ERR_QUEUE lost");
    cf_check(cf_getint(u, IPPROTO_UDP, UDP_SEGMENT) == 1000, "UDP_SEGMENT: expected 1000, got %d",
             cf_getint(u, IPPROTO_UDP, UDP_SEGMENT));
    cf_check(cf_getint(u, IPPROTO_UDP, UDP_GRO) == 1, "UDP_GRO lost");
    cf_check(cf_getint(t, SOL_SOCKET, SO_ZEROCOPY) == 1, "SO_ZEROCOPY lost");
    cf_check(cf_getint(t, IPPROTO_TCP, TCP_THIN_LINEAR_TIMEOUTS) == 1, "TCP_THIN_LINEAR_TIMEOUTS lost");
    cf_pass();
}
