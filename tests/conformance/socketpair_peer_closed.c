/* Data queued in a unix stream socket whose peer end was closed: the data, then
 * EOF, and writing fails with EPIPE. */
#include "conf.h"

int main(void)
{
    int sv[2];
    cf_sys(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    cf_write_all(sv[0], "last words", 10);
    close(sv[0]);
    cf_ready();
    cf_wait();
    char buf[32] = "";
    ssize_t n = recv(sv[1], buf, sizeof buf, MSG_DONTWAIT);
    cf_check(n == 10 && memcmp(buf, "last words", 10) == 0, "expected 'last words' queued, got %zd bytes (%s)", n,
             n < 0 ? strerror(errno) : buf);
    n = recv(sv[1], buf, sizeof buf, MSG_DONTWAIT);
    cf_check(n == 0, "after the data: expected EOF, got %zd (%s)", n, n < 0 ? strerror(errno) : "data");
    n = send(sv[1], "x", 1, MSG_NOSIGNAL);
    cf_check(n < 0 && errno == EPIPE, "write: expected EPIPE, got %zd (%s)", n, n < 0 ? strerror(errno) : "written");
    cf_pass();
}
