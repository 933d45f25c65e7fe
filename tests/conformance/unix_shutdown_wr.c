/* A unix stream pair, one end shut down for writing after sending "abc": the peer
 * reads abc then EOF, the shut end cannot write (EPIPE) but still reads. */
#include "conf.h"

int main(void)
{
    int sv[2];
    cf_sys(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    cf_write_all(sv[0], "abc", 3);
    cf_sys(shutdown(sv[0], SHUT_WR));
    cf_write_all(sv[1], "xyz", 3);
    cf_ready();
    cf_wait();
    char buf[8] = "";
    cf_check(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT) == 3 && memcmp(buf, "abc", 3) == 0, "peer: expected 'abc' queued, got '%s'", buf);
    ssize_t n = recv(sv[1], buf, sizeof buf, MSG_DONTWAIT);
    cf_check(n == 0, "peer after abc: expected EOF, got %zd (%s)", n, n < 0 ? strerror(errno) : "data");
    n = send(sv[0], "q", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    cf_check(n < 0 && errno == EPIPE, "write on the shut end: expected EPIPE, got %zd (%s)", n, n < 0 ? strerror(errno) : "written");
    cf_check(recv(sv[0], buf, sizeof buf, MSG_DONTWAIT) == 3 && memcmp(buf, "xyz", 3) == 0, "shut end: expected 'xyz' queued");
    cf_check(send(sv[1], "r", 1, MSG_NOSIGNAL) == 1 && recv(sv[0], buf, 1, MSG_DONTWAIT) == 1 && buf[0] == 'r',
             "the peer can no longer write to the shut end");
    cf_pass();
}
