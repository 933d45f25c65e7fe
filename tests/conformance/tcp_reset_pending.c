/* A TCP connection whose peer sent a line and was then closed with a reset (SO_LINGER
 * 0), the line and the error not read yet: after the restart the line is read, then
 * ECONNRESET once, then end of file, and a write fails with EPIPE. */
#include "tcp_conf.h"
#include <poll.h>

int main(void)
{
    struct sockaddr_storage a;
    socklen_t len;
    int l = tc_listener(TC_V4, &a, &len), c, s;
    tc_pair(TC_V4, l, &c, &s);
    close(l);
    cf_write_all(s, "bye", 3);
    struct linger now = { 1, 0 };
    cf_sys(setsockopt(s, SOL_SOCKET, SO_LINGER, &now, sizeof now));
    close(s);
    struct pollfd pf = { c, 0, 0 };
    double end = cf_now() + 10;
    while (!(poll(&pf, 1, 10) == 1 && (pf.revents & POLLERR)) && cf_now() < end)
        ;
    cf_check(pf.revents & POLLERR, "the reset did not come");
    cf_ready();
    cf_wait();
    pf.revents = 0;
    cf_check(poll(&pf, 1, 0) == 1 && (pf.revents & POLLERR), "no error pending after the checkpoint");
    char buf[8];
    cf_check(recv(c, buf, sizeof buf, 0) == 3 && !memcmp(buf, "bye", 3), "the line sent before the reset is gone");
    errno = 0;
    cf_check(recv(c, buf, sizeof buf, 0) < 0 && errno == ECONNRESET, "after the line: expected ECONNRESET, got %s",
             errno ? strerror(errno) : "no error");
    cf_check(recv(c, buf, sizeof buf, 0) == 0, "after the reset: expected end of file");
    errno = 0;
    cf_check(send(c, "x", 1, MSG_NOSIGNAL) < 0 && errno == EPIPE, "a write after the reset: expected EPIPE, got %s",
             errno ? strerror(errno) : "success");
    cf_pass();
}
