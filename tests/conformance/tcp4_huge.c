/* An established IPv4 connection whose buffers grew as the program read fast (256 MiB
 * through each way), then as much queued each way as its buffers take (up to 6 MiB,
 * at least 2 MiB: far more than a new connection holds): every byte comes back in
 * order.  (How far the kernel grew the buffers depends on the machine's load.) */
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

/* queue the pattern seed on fd, nobody reading, until max bytes are queued or nothing
 * more fits for a second (and at least min fit); how many were queued */
static size_t queue_what_fits(int fd, size_t max, size_t min, unsigned seed)
{
    char *buf = malloc(max);
    if (!buf)
        cf_fail("out of memory");
    cf_fill(buf, max, seed);
    size_t done = 0;
    double end = cf_now() + 20, quiet_since = cf_now();
    while (done < max) {
        ssize_t n = send(fd, buf + done, max - done, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            done += (size_t)n;
            quiet_since = cf_now();
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            cf_fail("queueing on fd %d: %s after %zu", fd, strerror(errno), done);
        if (done >= min && cf_now() - quiet_since > 1)
            break;
        cf_check(cf_now() < end, "queueing on fd %d: only %zu fit (at least %zu expected)", fd, done, min);
        struct pollfd p = { fd, POLLOUT, 0 };
        poll(&p, 1, 10);
    }
    free(buf);
    return done;
}

int main(void)
{
    struct sockaddr_storage a;
    socklen_t len;
    int l = tc_listener(TC_V4, &a, &len), c, k;
    tc_pair(TC_V4, l, &c, &k);
    pump(c, k, 256u << 20);
    pump(k, c, 256u << 20);
    size_t to_server = queue_what_fits(c, 6u << 20, 2u << 20, 1);
    size_t to_client = queue_what_fits(k, 6u << 20, 2u << 20, 2);
    cf_ready();
    cf_wait();
    tc_expect(k, to_server, 1, "server end");
    tc_expect(c, to_client, 2, "client");
    tc_expect_end(k, 0, "server end, after the data");
    tc_expect_end(c, 0, "client, after the data");
    cf_pass();
}
