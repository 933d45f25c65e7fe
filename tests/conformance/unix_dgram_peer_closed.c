/* A unix datagram socket pair, one end closed with two datagrams sent to the other:
 * they are still there, in order, then nothing, and sending fails (ECONNREFUSED). */
#include "conf.h"

int main(void)
{
    int sv[2];
    cf_sys(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    cf_check(send(sv[0], "one", 3, 0) == 3 && send(sv[0], "two!", 4, 0) == 4, "send: %s", strerror(errno));
    cf_sys(close(sv[0]));
    cf_ready();
    cf_wait();
    char buf[8] = "";
    cf_check(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT) == 3 && memcmp(buf, "one", 3) == 0, "first: expected 'one', got '%s'", buf);
    cf_check(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT) == 4 && memcmp(buf, "two!", 4) == 0, "second: expected 'two!', got '%s'", buf);
    ssize_t n = recv(sv[1], buf, sizeof buf, MSG_DONTWAIT);
    cf_check(n < 0 && errno == EAGAIN, "then: expected nothing (EAGAIN), got %zd (%s)", n, n < 0 ? strerror(errno) : "data");
    n = send(sv[1], "x", 1, MSG_DONTWAIT);
    cf_check(n < 0 && errno == ECONNREFUSED, "send to the closed peer: expected ECONNREFUSED, got %zd (%s)", n,
             n < 0 ? strerror(errno) : "sent");
    cf_pass();
}
