/* A connected UDP socket shut down for reading and writing: after the restart a send
 * still fails with EPIPE, poll says POLLRDHUP and a blocking read says end of file
 * at once. */
#include "conf.h"
#include <sys/socket.h>
#include <netinet/in.h>
#include <poll.h>

int main(void)
{
    struct sockaddr_storage a, b;
    int r = socket(AF_INET, SOCK_DGRAM, 0), s = socket(AF_INET, SOCK_DGRAM, 0);
    cf_sys(r);
    cf_sys(s);
    socklen_t len = cf_loopback(AF_INET, 0, &a);
    cf_sys(bind(r, (void *)&a, len));
    len = sizeof a;
    cf_sys(getsockname(r, (void *)&a, &len));
    cf_sys(connect(s, (void *)&a, len));
    cf_sys(shutdown(s, SHUT_RDWR));
    (void)b;
    cf_ready();
    cf_wait();
    errno = 0;
    cf_check(send(s, "x", 1, MSG_NOSIGNAL) < 0 && errno == EPIPE, "send after SHUT_WR: expected EPIPE, got %s",
             errno ? strerror(errno) : "success");
    struct pollfd pf = { s, POLLIN | POLLRDHUP, 0 };
    cf_check(poll(&pf, 1, 0) == 1 && (pf.revents & POLLRDHUP), "poll after SHUT_RD: expected POLLRDHUP, got %x",
             pf.revents);
    char c;
    cf_check(recv(s, &c, 1, 0) == 0, "a blocking read after SHUT_RD: expected end of file, got %s", strerror(errno));
    cf_pass();
}
