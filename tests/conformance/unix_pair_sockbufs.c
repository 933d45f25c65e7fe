/* SO_RCVBUF and SO_SNDBUF set by the program on a unix stream socket pair. */
#include "conf.h"

int main(void)
{
    int sv[2];
    cf_sys(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    cf_setint(sv[0], SOL_SOCKET, SO_SNDBUF, 40000);
    cf_setint(sv[1], SOL_SOCKET, SO_RCVBUF, 60000);
    int snd = cf_getint(sv[0], SOL_SOCKET, SO_SNDBUF), rcv = cf_getint(sv[1], SOL_SOCKET, SO_RCVBUF);
    cf_write_all(sv[0], "queued", 6);
    cf_ready();
    cf_wait();
    int s = cf_getint(sv[0], SOL_SOCKET, SO_SNDBUF), r = cf_getint(sv[1], SOL_SOCKET, SO_RCVBUF);
    cf_check(s == snd && r == rcv, "SO_SNDBUF/SO_RCVBUF: expected %d/%d, got %d/%d", snd, rcv, s, r);
    char buf[6];
    cf_read_all(sv[1], buf, 6, "the pair");
    cf_check(!memcmp(buf, "queued", 6), "the pair carries wrong bytes");
    cf_pass();
}
