/* A connection inside the process whose client shut down writing after its bytes
 * (FIN_WAIT2 on its side, CLOSE_WAIT on the server's), bytes queued both ways: the
 * server end reads them, then EOF; the client reads its bytes and a write gives EPIPE;
 * the server end still writes to it. */
#include "tcp_conf.h"

int main(void)
{
    struct sockaddr_storage a;
    socklen_t len;
    int l = tc_listener(TC_V4, &a, &len), c, k;
    tc_pair(TC_V4, l, &c, &k);
    tc_queue(c, 5000, 1);
    cf_sys(shutdown(c, SHUT_WR));
    tc_queue(k, 7000, 2);
    tc_wait_state(c, TCP_FIN_WAIT2, "client");
    tc_wait_state(k, TCP_CLOSE_WAIT, "server end");
    struct tc_names nc, nk;
    tc_note(c, &nc);
    tc_note(k, &nk);
    cf_ready();
    cf_wait();
    tc_same(c, &nc, "client");
    tc_same(k, &nk, "server end");
    cf_check(tc_state(c) == TCP_FIN_WAIT2 && tc_state(k) == TCP_CLOSE_WAIT,
             "states expected FIN_WAIT2 and CLOSE_WAIT, got %d and %d", tc_state(c), tc_state(k));
    tc_expect(k, 5000, 1, "server end");
    tc_expect_end(k, 1, "server end, after the client's bytes");
    tc_expect(c, 7000, 2, "client");
    tc_expect_end(c, 0, "client, after the server's bytes");
    tc_expect_write(c, 1, "client (shut down for writing)");
    tc_expect_write(k, 0, "server end");
    char x;
    cf_check(cf_readable(c, 5), "client: the server's new byte did not come");
    cf_read_all(c, &x, 1, "client, new byte");
    cf_pass();
}
