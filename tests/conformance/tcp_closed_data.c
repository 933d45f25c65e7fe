/* A connection both ends shut down for writing (over both ways: TCP_CLOSE on each, no
 * peer address), bytes each end has not read: each reads them, then EOF; a write gives
 * EPIPE; the local addresses are the same.  SO_REUSEADDR on the client: the kernel
 * keeps the port of a connection closed this way in TIME_WAIT for a minute, which only
 * that lets a restart bind again (else it says so and takes another). */
#include "tcp_conf.h"

int main(void)
{
    struct sockaddr_storage a;
    socklen_t len;
    int l = tc_listener(TC_V4, &a, &len), c, k;
    cf_sys(getsockname(l, (void *)&a, &len));
    c = tc_client(AF_INET, 0);
    cf_setint(c, SOL_SOCKET, SO_REUSEADDR, 1);
    cf_sys(connect(c, (void *)&a, len));
    k = accept(l, NULL, NULL);
    cf_sys(k);
    tc_queue(c, 3000, 1);
    tc_queue(k, 4000, 2);
    cf_sys(shutdown(c, SHUT_WR));
    cf_sys(shutdown(k, SHUT_WR));
    tc_wait_state(c, TCP_CLOSE, "client");
    tc_wait_state(k, TCP_CLOSE, "server end");
    char sc[160], sk[160];
    snprintf(sc, sizeof sc, "%s", cf_sockname(c, 0));
    snprintf(sk, sizeof sk, "%s", cf_sockname(k, 0));
    cf_ready();
    cf_wait();
    cf_check(strcmp(cf_sockname(c, 0), sc) == 0 && strcmp(cf_sockname(k, 0), sk) == 0,
             "local addresses expected %s and %s, got %s and %s", sc, sk, cf_sockname(c, 0), cf_sockname(k, 0));
    cf_check(strcmp(cf_sockname(c, 1), "(Transport endpoint is not connected)") == 0,
             "client: getpeername expected ENOTCONN, got %s", cf_sockname(c, 1));
    cf_check(tc_state(c) == TCP_CLOSE && tc_state(k) == TCP_CLOSE, "states expected CLOSE, got %d and %d",
             tc_state(c), tc_state(k));
    tc_expect(k, 3000, 1, "server end");
    tc_expect_end(k, 1, "server end, after the data");
    tc_expect(c, 4000, 2, "client");
    tc_expect_end(c, 1, "client, after the data");
    tc_expect_write(c, 1, "client");
    tc_expect_write(k, 1, "server end");
    cf_pass();
}
