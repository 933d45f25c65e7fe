/* A connected UDP socket with UDP_CORK on, nothing held back yet, and a datagram queued
 * to the socket it sends to: after the restart it is still corked (two writes go out
 * as one datagram when uncorked) and the queued datagram is there. */
#include "conf.h"
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>

int main(void)
{
    struct sockaddr_storage a;
    int r = socket(AF_INET, SOCK_DGRAM, 0), s = socket(AF_INET, SOCK_DGRAM, 0);
    cf_sys(r);
    cf_sys(s);
    socklen_t len = cf_loopback(AF_INET, 0, &a);
    cf_sys(bind(r, (void *)&a, len));
    len = sizeof a;
    cf_sys(getsockname(r, (void *)&a, &len));
    cf_sys(connect(s, (void *)&a, len));
    cf_write_all(s, "queued", 6);
    cf_check(cf_readable(r, 5), "the queued datagram did not arrive");
    cf_setint(s, IPPROTO_UDP, UDP_CORK, 1);
    cf_ready();
    cf_wait();
    cf_check(cf_getint(s, IPPROTO_UDP, UDP_CORK) == 1, "UDP_CORK is off");
    char buf[16] = "";
    cf_check(recv(r, buf, sizeof buf, MSG_DONTWAIT) == 6 && !memcmp(buf, "queued", 6), "the queued datagram is gone");
    cf_write_all(s, "held ", 5);
    cf_write_all(s, "back", 4);
    cf_check(!cf_readable(r, 0.1), "a corked write went out");
    cf_setint(s, IPPROTO_UDP, UDP_CORK, 0);
    cf_check(cf_readable(r, 5), "uncorking sent nothing: the held-back writes were lost");
    ssize_t n = recv(r, buf, sizeof buf, 0);
    cf_check(n == 9 && !memcmp(buf, "held back", 9), "the datagram: expected 'held back', got %zd bytes '%.*s'", n,
             (int)(n > 0 ? n : 0), buf);
    cf_pass();
}
