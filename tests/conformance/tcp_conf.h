/* What the TCP connection tests share: a connection on loopback of a family (IPv4,
 * IPv6, IPv4 in IPv6), its addresses noted before and compared after, data of any size
 * queued and checked byte for byte, the read and write results of each state. */
#ifndef TCP_CONF_H
#define TCP_CONF_H
#include "conf.h"

enum { TC_V4, TC_V6, TC_MAPPED };

/* a listener on loopback (TC_MAPPED: an IPv6 socket on ::ffff:127.0.0.1), any port */
static int __attribute__((unused)) tc_listener(int fam, struct sockaddr_storage *a, socklen_t *len)
{
    int s = socket(fam == TC_V4 ? AF_INET : AF_INET6, SOCK_STREAM, 0);
    cf_sys(s);
    *len = cf_loopback(fam == TC_V4 ? AF_INET : AF_INET6, 0, a);
    if (fam == TC_MAPPED) {
        cf_setint(s, IPPROTO_IPV6, IPV6_V6ONLY, 0);
        inet_pton(AF_INET6, "::ffff:127.0.0.1", &((struct sockaddr_in6 *)a)->sin6_addr);
    }
    cf_sys(bind(s, (void *)a, *len));
    cf_sys(listen(s, 8));
    *len = sizeof *a;
    cf_sys(getsockname(s, (void *)a, len));
    return s;
}

/* A TCP socket of family on loopback (mapped: IPv6 on ::ffff:127.0.0.1) bound to a
 * port of its own below the kernel's ephemeral range: other programs' outgoing
 * connections share ephemeral ports, and while one of them (or its TIME_WAIT) holds
 * this one a restart cannot bind it again (it says so and takes another): the tests
 * check the ports come back where they are free. */
static int __attribute__((unused)) tc_client(int family, int mapped)
{
    int s = socket(family, SOCK_STREAM, 0);
    cf_sys(s);
    struct sockaddr_storage a;
    socklen_t len = cf_loopback(family, 0, &a);
    if (mapped) {
        cf_setint(s, IPPROTO_IPV6, IPV6_V6ONLY, 0);
        inet_pton(AF_INET6, "::ffff:127.0.0.1", &((struct sockaddr_in6 *)&a)->sin6_addr);
    }
    static unsigned next;
    if (!next)
        next = (unsigned)getpid() * 7919u;
    for (int tries = 0; tries < 12000; tries++) {
        uint16_t port = htons((uint16_t)(20000 + next++ % 12000));
        if (family == AF_INET)
            ((struct sockaddr_in *)&a)->sin_port = port;
        else
            ((struct sockaddr_in6 *)&a)->sin6_port = port;
        if (bind(s, (void *)&a, len) == 0)
            return s;
        if (errno != EADDRINUSE)
            cf_fail("bind a client to %s: %s", cf_addr_str(&a, len), strerror(errno));
    }
    cf_fail("no free port between 20000 and 31999 for a client");
}

/* a connection: *client connected to the listener's address, *server accepted */
static void __attribute__((unused)) tc_pair(int fam, int listener, int *client, int *server)
{
    struct sockaddr_storage a;
    socklen_t len = sizeof a;
    cf_sys(getsockname(listener, (void *)&a, &len));
    *client = tc_client(a.ss_family, fam == TC_MAPPED);
    cf_sys(connect(*client, (void *)&a, len));
    *server = accept(listener, NULL, NULL);
    cf_sys(*server);
}

struct tc_names {
    char self[160], peer[160];
    int family;
};

static void __attribute__((unused)) tc_note(int fd, struct tc_names *n)
{
    snprintf(n->self, sizeof n->self, "%s", cf_sockname(fd, 0));
    snprintf(n->peer, sizeof n->peer, "%s", cf_sockname(fd, 1));
    n->family = cf_getint(fd, SOL_SOCKET, SO_DOMAIN);
}

static void __attribute__((unused)) tc_same(int fd, const struct tc_names *n, const char *what)
{
    cf_check(cf_getint(fd, SOL_SOCKET, SO_PROTOCOL) == IPPROTO_TCP &&
             cf_getint(fd, SOL_SOCKET, SO_DOMAIN) == n->family,
             "%s: expected a TCP socket of family %d, got protocol %d family %d", what, n->family,
             cf_getint(fd, SOL_SOCKET, SO_PROTOCOL), cf_getint(fd, SOL_SOCKET, SO_DOMAIN));
    cf_check(strcmp(cf_sockname(fd, 0), n->self) == 0 && strcmp(cf_sockname(fd, 1), n->peer) == 0,
             "%s: addresses expected %s -> %s, got %s -> %s", what, n->self, n->peer,
             cf_sockname(fd, 0), cf_sockname(fd, 1));
}

/* queue len bytes of the pattern seed on fd, nobody reading yet (at most 20 s) */
static void __attribute__((unused)) tc_queue(int fd, size_t len, unsigned seed)
{
    char *buf = malloc(len ? len : 1);
    if (!buf)
        cf_fail("out of memory");
    cf_fill(buf, len, seed);
    size_t done = 0;
    double end = cf_now() + 20;
    while (done < len) {
        ssize_t n = send(fd, buf + done, len - done, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            cf_fail("queueing %zu bytes on fd %d: %s after %zu", len, fd, strerror(errno), done);
        if (cf_now() > end)
            cf_fail("queueing %zu bytes on fd %d: only %zu fit", len, fd, done);
        struct pollfd p = { fd, POLLOUT, 0 };
        poll(&p, 1, 10);
    }
    free(buf);
}

/* read exactly len bytes of the pattern seed from fd (at most 20 s) */
static void __attribute__((unused)) tc_expect(int fd, size_t len, unsigned seed, const char *what)
{
    char *want = malloc(len ? len : 1), *got = malloc(len ? len : 1);
    if (!want || !got)
        cf_fail("out of memory");
    cf_fill(want, len, seed);
    size_t done = 0;
    double end = cf_now() + 20;
    while (done < len) {
        ssize_t n = recv(fd, got + done, len - done, MSG_DONTWAIT);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n == 0)
            cf_fail("%s: EOF after %zu of %zu bytes", what, done, len);
        if (errno != EAGAIN && errno != EINTR)
            cf_fail("%s: %s after %zu of %zu bytes", what, strerror(errno), done, len);
        if (cf_now() > end)
            cf_fail("%s: only %zu of %zu bytes came", what, done, len);
        struct pollfd p = { fd, POLLIN, 0 };
        poll(&p, 1, 10);
    }
    for (size_t i = 0; i < len; i++)
        if (want[i] != got[i])
            cf_fail("%s: byte %zu of %zu differs (0x%02x, expected 0x%02x)", what, i, len,
                    (unsigned char)got[i], (unsigned char)want[i]);
    free(want);
    free(got);
}

/* nothing more to read: EOF (eof) or nothing yet, would block */
static void __attribute__((unused)) tc_expect_end(int fd, int eof, const char *what)
{
    char c;
    if (eof)
        cf_check(cf_readable(fd, 5), "%s: no EOF within 5 s", what);
    ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);
    if (eof)
        cf_check(n == 0, "%s: expected EOF, got %zd (%s)", what, n, n < 0 ? strerror(errno) : "a byte");
    else
        cf_check(n < 0 && errno == EAGAIN, "%s: expected nothing to read, got %zd (%s)", what, n,
                 n < 0 ? strerror(errno) : "a byte");
}

/* a write gives EPIPE (epipe) or goes through */
static void __attribute__((unused)) tc_expect_write(int fd, int epipe, const char *what)
{
    ssize_t n = send(fd, "x", 1, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (epipe)
        cf_check(n < 0 && errno == EPIPE, "%s: a write expected EPIPE, got %zd (%s)", what, n,
                 n < 0 ? strerror(errno) : "written");
    else
        cf_check(n == 1, "%s: a write failed: %s", what, strerror(errno));
}

/* the TCP state as TCP_INFO says */
static int __attribute__((unused)) tc_state(int fd)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    memset(&ti, 0, sizeof ti);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
        cf_fail("TCP_INFO on fd %d: %s", fd, strerror(errno));
    return ti.tcpi_state;
}

/* until fd's state is want (at most 5 s) */
static void __attribute__((unused)) tc_wait_state(int fd, int want, const char *what)
{
    double end = cf_now() + 5;
    while (tc_state(fd) != want) {
        if (cf_now() > end)
            cf_fail("%s: TCP state %d, expected %d", what, tc_state(fd), want);
        struct timespec ts = { 0, 2 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
}

/* An established connection of family fam with small or large queues both ways and
 * options on each end: addresses, options and data come back. */
static void __attribute__((unused)) tc_established(int fam, size_t to_server, size_t to_client)
{
    struct sockaddr_storage a;
    socklen_t len;
    int l = tc_listener(fam, &a, &len);
    cf_setint(l, SOL_SOCKET, SO_REUSEADDR, 1);  /* the accepted end inherits it */
    int c, k;
    tc_pair(fam, l, &c, &k);
    cf_setint(c, IPPROTO_TCP, TCP_NODELAY, 1);
    cf_setint(k, SOL_SOCKET, SO_KEEPALIVE, 1);
    cf_setint(k, IPPROTO_TCP, TCP_KEEPIDLE, 77);
    cf_setint(k, IPPROTO_TCP, TCP_KEEPINTVL, 13);
    cf_setint(k, IPPROTO_TCP, TCP_KEEPCNT, 4);
    tc_queue(c, to_server, 1);
    tc_queue(k, to_client, 2);
    struct tc_names nc, nk;
    tc_note(c, &nc);
    tc_note(k, &nk);
    cf_ready();
    cf_wait();
    tc_same(c, &nc, "client");
    tc_same(k, &nk, "server end");
    cf_check(cf_getint(c, IPPROTO_TCP, TCP_NODELAY) == 1, "client: TCP_NODELAY expected 1");
    cf_check(cf_getint(c, SOL_SOCKET, SO_REUSEADDR) == 0, "client: SO_REUSEADDR expected 0");
    cf_check(cf_getint(k, SOL_SOCKET, SO_REUSEADDR) == 1, "server end: SO_REUSEADDR expected 1");
    cf_check(cf_getint(k, SOL_SOCKET, SO_KEEPALIVE) == 1 && cf_getint(k, IPPROTO_TCP, TCP_KEEPIDLE) == 77 &&
             cf_getint(k, IPPROTO_TCP, TCP_KEEPINTVL) == 13 && cf_getint(k, IPPROTO_TCP, TCP_KEEPCNT) == 4,
             "server end: keepalive expected on, 77/13/4, got %d, %d/%d/%d", cf_getint(k, SOL_SOCKET, SO_KEEPALIVE),
             cf_getint(k, IPPROTO_TCP, TCP_KEEPIDLE), cf_getint(k, IPPROTO_TCP, TCP_KEEPINTVL),
             cf_getint(k, IPPROTO_TCP, TCP_KEEPCNT));
    cf_check(tc_state(c) == TCP_ESTABLISHED && tc_state(k) == TCP_ESTABLISHED,
             "states expected established, got %d and %d", tc_state(c), tc_state(k));
    tc_expect(k, to_server, 1, "server end");
    tc_expect(c, to_client, 2, "client");
    tc_expect_end(k, 0, "server end, after the data");
    tc_expect_end(c, 0, "client, after the data");
    /* and it still carries data both ways */
    cf_write_all(c, "ping", 4);
    tc_expect_write(k, 0, "server end");
    char buf[4];
    cf_check(cf_readable(k, 5), "server end: the client's new bytes did not come");
    cf_read_all(k, buf, 4, "server end, new bytes");
    cf_check(memcmp(buf, "ping", 4) == 0, "server end: expected 'ping'");
    cf_check(cf_readable(c, 5), "client: the server's new byte did not come");
    cf_read_all(c, buf, 1, "client, new byte");
    cf_pass();
}
#endif
