/* An established IPv4 connection whose buffers grew as the program read fast (256 MiB
 * through each way), then 6 MiB queued each way, more than a new connection holds:
 * every byte comes back in order. */
#include "tcp_conf.h"

static void pump(int from, int to, size_t total)
{
    static char junk[1 << 20];
    size_t sent = 0, got = 0;
    double end = cf_now() + 60;
    while (got < total) {
        if (sent < total) {
            ssize_t n = send(from, junk, sizeof junk < total - sent ? sizeof junk : total - sent, MSG_DONTWAIT);
            if (n > 0)
                sent += (size_t)n;
        }
        ssize_t m = recv(to, junk, sizeof junk, MSG_DONTWAIT);
        if (m > 0)
            got += (size_t)m;
        cf_check(cf_now() < end, "pumping %zu bytes: only %zu came", total, got);
    }
}

int main(void)
{
    struct sockaddr_storage a;
    socklen_t len;
    int l = tc_listener(TC_V4, &a, &len), c, k;
    tc_pair(TC_V4, l, &c, &k);
    pump(c, k, 256u << 20);
    pump(k, c, 256u << 20);
    tc_queue(c, 6u << 20, 1);
    tc_queue(k, 6u << 20, 2);
    cf_ready();
    cf_wait();
    tc_expect(k, 6u << 20, 1, "server end");
    tc_expect(c, 6u << 20, 2, "client");
    tc_expect_end(k, 0, "server end, after the data");
    tc_expect_end(c, 0, "client, after the data");
    cf_pass();
}
