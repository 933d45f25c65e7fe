/* A connection whose server end was shut down for reading with bytes unread: it
 * reads them, then EOF, and still writes to the client. */
#include "tcp_conf.h"

int main(void)
{
    struct sockaddr_storage a;
    socklen_t len;
    int l = tc_listener(TC_V6, &a, &len), c, k;
    tc_pair(TC_V6, l, &c, &k);
    tc_queue(c, 2000, 1);
    cf_check(cf_readable(k, 5), "server end: the client's bytes did not come");
    cf_sys(shutdown(k, SHUT_RD));
    struct tc_names nk;
    tc_note(k, &nk);
    cf_ready();
    cf_wait();
    tc_same(k, &nk, "server end");
    tc_expect(k, 2000, 1, "server end");
    tc_expect_end(k, 1, "server end, after the data");
    tc_expect_write(k, 0, "server end");
    char x;
    cf_check(cf_readable(c, 5), "client: the server's byte did not come");
    cf_read_all(c, &x, 1, "client, new byte");
    cf_pass();
}
