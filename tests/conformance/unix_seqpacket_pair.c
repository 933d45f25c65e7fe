/* A unix seqpacket socket pair with datagrams of several sizes queued both ways:
 * every datagram comes out whole, in order, with its own length. */
#include "conf.h"
#include <sys/socket.h>

static const size_t sizes[] = { 1, 17, 4000, 60000, 3, 2 };
#define N (sizeof sizes / sizeof sizes[0])

static void check_side(int fd, unsigned seed, const char *side)
{
    static char want[65536], got[65537];
    for (size_t i = 0; i < N; i++) {
        cf_fill(want, sizes[i], seed + (unsigned)i);
        ssize_t n = recv(fd, got, sizeof got, MSG_DONTWAIT);
        cf_check(n >= 0, "%s datagram %zu: expected %zu bytes, got %s", side, i, sizes[i], strerror(errno));
        cf_check((size_t)n == sizes[i], "%s datagram %zu: expected %zu bytes, got %zd", side, i, sizes[i], n);
        cf_check(memcmp(want, got, sizes[i]) == 0, "%s datagram %zu (%zu bytes): contents differ", side, i, sizes[i]);
    }
    ssize_t n = recv(fd, got, sizeof got, MSG_DONTWAIT);
    cf_check(n < 0 && errno == EAGAIN, "%s: expected no more datagrams, got %zd", side, n);
}

int main(void)
{
    int sv[2];
    int sz = 256 * 1024;
    static char buf[65536];
    cf_sys(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
    cf_sys(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz));
    cf_sys(setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz));
    for (size_t i = 0; i < N; i++) {
        cf_fill(buf, sizes[i], 100 + (unsigned)i);
        cf_check(send(sv[0], buf, sizes[i], 0) == (ssize_t)sizes[i], "send %zu to b: %s", i, strerror(errno));
        cf_fill(buf, sizes[i], 200 + (unsigned)i);
        cf_check(send(sv[1], buf, sizes[i], 0) == (ssize_t)sizes[i], "send %zu to a: %s", i, strerror(errno));
    }
    cf_ready();
    cf_wait();
    int type = 0;
    socklen_t len = sizeof type;
    cf_sys(getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &type, &len));
    cf_check(type == SOCK_SEQPACKET, "SO_TYPE: expected SOCK_SEQPACKET (%d), got %d", SOCK_SEQPACKET, type);
    check_side(sv[1], 100, "b");
    check_side(sv[0], 200, "a");
    cf_check(send(sv[0], "x", 1, 0) == 1 && recv(sv[1], buf, 10, MSG_DONTWAIT) == 1 && buf[0] == 'x',
             "the pair no longer carries a new datagram a->b");
    cf_pass();
}
