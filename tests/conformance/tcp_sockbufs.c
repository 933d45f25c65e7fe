/* SO_RCVBUF and SO_SNDBUF set by the program on both ends of a connected TCP
 * connection (the kernel then stops tuning them): the same after the restart, and
 * the ends of the other connection, left to the kernel, still tuned by it. */
#include "tcp_conf.h"

int main(void)
{
    struct sockaddr_storage a;
    socklen_t len;
    int l = tc_listener(TC_V4, &a, &len), c, s, c2, s2;
    tc_pair(TC_V4, l, &c, &s);
    tc_pair(TC_V4, l, &c2, &s2);
    cf_setint(c, SOL_SOCKET, SO_RCVBUF, 70000);
    cf_setint(c, SOL_SOCKET, SO_SNDBUF, 90000);
    cf_setint(s, SOL_SOCKET, SO_SNDBUF, 50000);
    int want[3] = { cf_getint(c, SOL_SOCKET, SO_RCVBUF), cf_getint(c, SOL_SOCKET, SO_SNDBUF),
                    cf_getint(s, SOL_SOCKET, SO_SNDBUF) };
    int lock = cf_getint(s2, SOL_SOCKET, SO_BUF_LOCK);
    cf_ready();
    cf_wait();
    int got[3] = { cf_getint(c, SOL_SOCKET, SO_RCVBUF), cf_getint(c, SOL_SOCKET, SO_SNDBUF),
                   cf_getint(s, SOL_SOCKET, SO_SNDBUF) };
    cf_check(!memcmp(want, got, sizeof want), "client SO_RCVBUF/SO_SNDBUF, server SO_SNDBUF: "
             "expected %d/%d/%d, got %d/%d/%d", want[0], want[1], want[2], got[0], got[1], got[2]);
    cf_check(cf_getint(c, SOL_SOCKET, SO_BUF_LOCK) == 3 && cf_getint(s, SOL_SOCKET, SO_BUF_LOCK) == 1,
             "SO_BUF_LOCK: expected 3 (client) and 1 (server), got %d and %d",
             cf_getint(c, SOL_SOCKET, SO_BUF_LOCK), cf_getint(s, SOL_SOCKET, SO_BUF_LOCK));
    cf_check(cf_getint(s2, SOL_SOCKET, SO_BUF_LOCK) == lock && cf_getint(c2, SOL_SOCKET, SO_BUF_LOCK) == 0,
             "SO_BUF_LOCK of the connection left to the kernel: expected %d, got %d/%d", lock,
             cf_getint(s2, SOL_SOCKET, SO_BUF_LOCK), cf_getint(c2, SOL_SOCKET, SO_BUF_LOCK));
    /* still a connection */
    cf_write_all(c, "ping", 4);
    char buf[4];
    cf_read_all(s, buf, 4, "the server");
    cf_check(!memcmp(buf, "ping", 4), "the connection carries wrong bytes");
    cf_pass();
}
