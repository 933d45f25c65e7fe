/* One epoll with four targets when the checkpoint comes: an edge-triggered pipe with
 * bytes whose edge was not taken yet, an edge-triggered UDP socket with a datagram
 * queued whose edge was taken, a level-triggered pipe with bytes, and a one-shot pipe
 * with bytes not reported yet.  After the restart one wait reports the first, third and
 * fourth (not the UDP socket), the next only the level-triggered one. */
#include "conf.h"
#include <sys/epoll.h>
#include <sys/socket.h>
#include <netinet/in.h>

static unsigned reported(int ep, const char *what)
{
    struct epoll_event ev[8];
    int n = epoll_wait(ep, ev, 8, 200);
    cf_check(n >= 0, "%s: epoll_wait: %s", what, strerror(errno));
    unsigned set = 0;
    for (int i = 0; i < n; i++)
        set |= 1u << ev[i].data.u32;
    return set;
}

int main(void)
{
    int a[2], c[2], d[2];
    cf_sys(pipe2(a, O_NONBLOCK));
    cf_sys(pipe2(c, O_NONBLOCK));
    cf_sys(pipe2(d, O_NONBLOCK));
    struct sockaddr_storage sa;
    int u = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0), snd = socket(AF_INET, SOCK_DGRAM, 0);
    cf_sys(u);
    cf_sys(snd);
    socklen_t len = cf_loopback(AF_INET, 0, &sa);
    cf_sys(bind(u, (void *)&sa, len));
    len = sizeof sa;
    cf_sys(getsockname(u, (void *)&sa, &len));
    int ep = epoll_create1(0);
    cf_sys(ep);
    struct epoll_event ev = { EPOLLIN | EPOLLET, { .u32 = 1 } };
    cf_sys(epoll_ctl(ep, EPOLL_CTL_ADD, u, &ev));
    cf_check(sendto(snd, "dgram", 5, 0, (void *)&sa, len) == 5, "sendto: %s", strerror(errno));
    cf_check(reported(ep, "before") == 2, "the UDP socket's edge was not reported before the checkpoint");
    ev = (struct epoll_event){ EPOLLIN | EPOLLET, { .u32 = 0 } };
    cf_sys(epoll_ctl(ep, EPOLL_CTL_ADD, a[0], &ev));
    ev = (struct epoll_event){ EPOLLIN, { .u32 = 2 } };
    cf_sys(epoll_ctl(ep, EPOLL_CTL_ADD, c[0], &ev));
    ev = (struct epoll_event){ EPOLLIN | EPOLLONESHOT, { .u32 = 3 } };
    cf_sys(epoll_ctl(ep, EPOLL_CTL_ADD, d[0], &ev));
    cf_write_all(a[1], "a", 1);
    cf_write_all(c[1], "c", 1);
    cf_write_all(d[1], "d", 1);
    cf_ready();
    cf_wait();
    unsigned first = reported(ep, "first wait"), second = reported(ep, "second wait");
    cf_check(first == ((1u << 0) | (1u << 2) | (1u << 3)), "first wait: expected targets 0, 2 and 3 (mask 0xd), got mask %#x", first);
    cf_check(second == (1u << 2), "second wait: expected only the level-triggered target (mask 0x4), got mask %#x", second);
    char buf[8];
    cf_check(recv(u, buf, sizeof buf, 0) == 5 && !memcmp(buf, "dgram", 5), "the UDP socket lost its datagram");
    cf_check(sendto(snd, "again", 5, 0, (void *)&sa, len) == 5, "sendto: %s", strerror(errno));
    cf_check(reported(ep, "after a new datagram") == ((1u << 1) | (1u << 2)), "a new datagram does not give the UDP socket an edge");
    cf_pass();
}
