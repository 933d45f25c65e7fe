/* A connection inside the process whose client wrote more than the server end takes
 * in, then shut down writing: bytes still unsent (or not acknowledged) with the FIN
 * behind them (FIN_WAIT1).  After the checkpoint the server end reads every byte, in
 * order, then EOF; the client reads the server's bytes and a write gives EPIPE; the
 * server end still writes to it; the addresses are the same. */
#include "tcp_conf.h"
#include <linux/sockios.h>
#include <sys/ioctl.h>

#define MOST (32u << 20)

/* Bytes of the pattern written on fd until the connection holds no more. */
static size_t fill(int fd, unsigned seed)
{
    char *buf = malloc(MOST);
    if (!buf)
        cf_fail("out of memory");
    cf_fill(buf, MOST, seed);
    size_t done = 0;
    int idle = 0;
    while (done < MOST && idle < 5) {
        ssize_t n = send(fd, buf + done, MOST - done, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            done += (size_t)n;
            idle = 0;
            continue;
        }
        if (errno != EAGAIN && errno != EINTR)
            cf_fail("filling the connection: %s after %zu bytes", strerror(errno), done);
        struct pollfd p = { fd, POLLOUT, 0 };
        if (poll(&p, 1, 40) == 0)
            idle++;
    }
    free(buf);
    cf_check(done < MOST, "the connection took %u bytes without filling", MOST);
    return done;
}

int main(void)
{
    struct sockaddr_storage a;
    socklen_t len;
    int l = tc_listener(TC_V4, &a, &len), c, k;
    tc_pair(TC_V4, l, &c, &k);
    size_t sent = fill(c, 1);
    cf_sys(shutdown(c, SHUT_WR));
    int outq = 0;
    cf_sys(ioctl(c, SIOCOUTQ, &outq));
    cf_check(outq > 0, "setup: nothing left in the client's send queue behind its FIN");
    tc_wait_state(c, TCP_FIN_WAIT1, "client");
    tc_queue(k, 3000, 2);
    struct tc_names nc, nk;
    tc_note(c, &nc);
    tc_note(k, &nk);
    cf_ready();
    cf_wait();
    tc_same(c, &nc, "client");
    tc_same(k, &nk, "server end");
    tc_expect(k, sent, 1, "server end");
    tc_expect_end(k, 1, "server end, after the client's bytes");
    tc_expect(c, 3000, 2, "client");
    tc_expect_end(c, 0, "client, after the server's bytes");
    tc_expect_write(c, 1, "client (shut down for writing)");
    tc_expect_write(k, 0, "server end");
    char x;
    cf_check(cf_readable(c, 5), "client: the server's new byte did not come");
    cf_read_all(c, &x, 1, "client, new byte");
    cf_pass();
}
