/* A unix stream pair, one end shut down for reading with data queued both ways: the
 * shut end still has its data (then EOF), the peer can no longer write to it (EPIPE),
 * and the other way still works. */
#include "conf.h"

int main(void)
{
    int sv[2];
    cf_sys(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    cf_write_all(sv[1], "before", 6);
    cf_sys(shutdown(sv[0], SHUT_RD));
    cf_write_all(sv[0], "to peer", 7);
    cf_ready();
    cf_wait();
    char buf[8] = "";
    cf_check(recv(sv[0], buf, sizeof buf, MSG_DONTWAIT) == 6 && memcmp(buf, "before", 6) == 0,
             "shut end: expected 'before' still queued, got '%s'", buf);
    ssize_t n = recv(sv[0], buf, sizeof buf, MSG_DONTWAIT);
    cf_check(n == 0, "shut end after the data: expected EOF, got %zd (%s)", n, n < 0 ? strerror(errno) : "data");
    n = send(sv[1], "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    cf_check(n < 0 && errno == EPIPE, "peer writing to the shut end: expected EPIPE, got %zd (%s)", n,
             n < 0 ? strerror(errno) : "written");
    cf_check(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT) == 7 && memcmp(buf, "to peer", 7) == 0, "peer: expected 'to peer'");
    cf_check(send(sv[0], "y", 1, MSG_NOSIGNAL) == 1 && recv(sv[1], buf, 1, MSG_DONTWAIT) == 1 && buf[0] == 'y',
             "the shut end can no longer write to its peer");
    cf_pass();
}
