/* A listening TCP socket with two connections in its backlog, not accepted yet,
 * each client having sent a line: both are accepted afterwards with their data,
 * and each still talks with its client. */
#include "conf.h"

int main(void)
{
    struct sockaddr_storage a;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    cf_sys(s);
    socklen_t len = cf_loopback(AF_INET, 0, &a);
    cf_sys(bind(s, (void *)&a, len));
    cf_sys(listen(s, 5));
    len = sizeof a;
    cf_sys(getsockname(s, (void *)&a, &len));
    int c[2];
    for (int i = 0; i < 2; i++) {
        c[i] = socket(AF_INET, SOCK_STREAM, 0);
        cf_sys(connect(c[i], (void *)&a, len));
        cf_write_all(c[i], i ? "client 1" : "client 0", 8);
    }
    cf_ready();
    cf_wait();
    int seen = 0;
    for (int i = 0; i < 2; i++) {
        cf_check(cf_readable(s, 5), "connection %d of the backlog is not there to accept", i + 1);
        int k = accept(s, NULL, NULL);
        cf_check(k >= 0, "accept %d: %s", i + 1, strerror(errno));
        char buf[9] = "";
        cf_check(cf_readable(k, 5), "accepted connection %d: its client's line did not come", i + 1);
        ssize_t n = recv(k, buf, 8, MSG_WAITALL);
        cf_check(n == 8 && strncmp(buf, "client ", 7) == 0, "accepted connection %d: expected 'client N', got %zd bytes '%s' (%s)",
                 i + 1, n, buf, n < 0 ? strerror(errno) : "");
        int who = buf[7] - '0';
        seen |= 1 << who;
        cf_check(send(k, "ok", 2, MSG_NOSIGNAL) == 2, "reply to client %d: %s", who, strerror(errno));
        cf_check(cf_readable(c[who], 5) && recv(c[who], buf, 2, 0) == 2, "client %d did not get the reply", who);
    }
    cf_check(seen == 3, "the same client came twice");
    cf_pass();
}
