/* A listening TCP socket with two connections in its backlog on which nothing was
 * sent yet: both are accepted afterwards, each client keeps its address, and each
 * accepted end talks with its client both ways. */
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
    char name[2][160];
    for (int i = 0; i < 2; i++) {
        c[i] = socket(AF_INET, SOCK_STREAM, 0);
        cf_sys(connect(c[i], (void *)&a, len));
        snprintf(name[i], sizeof name[i], "%s", cf_sockname(c[i], 0));
    }
    cf_ready();
    cf_wait();
    for (int i = 0; i < 2; i++)
        cf_check(strcmp(cf_sockname(c[i], 0), name[i]) == 0, "client %d: expected address %s, got %s", i, name[i],
                 cf_sockname(c[i], 0));
    int seen = 0;
    for (int i = 0; i < 2; i++) {
        cf_check(cf_readable(s, 5), "connection %d of the backlog is not there to accept", i + 1);
        struct sockaddr_storage from;
        socklen_t flen = sizeof from;
        int k = accept(s, (void *)&from, &flen);
        cf_check(k >= 0, "accept %d: %s", i + 1, strerror(errno));
        int who = strcmp(cf_addr_str(&from, flen), name[0]) == 0 ? 0 : strcmp(cf_addr_str(&from, flen), name[1]) == 0 ? 1 : -1;
        cf_check(who >= 0, "accepted a connection from %s, none of the clients (%s, %s)", cf_addr_str(&from, flen), name[0],
                 name[1]);
        seen |= 1 << who;
        char buf[4] = "";
        cf_check(send(c[who], "up", 2, MSG_NOSIGNAL) == 2 && cf_readable(k, 5) && recv(k, buf, 2, 0) == 2 &&
                 memcmp(buf, "up", 2) == 0, "client %d -> accepted end: '%s'", who, buf);
        cf_check(send(k, "dn", 2, MSG_NOSIGNAL) == 2 && cf_readable(c[who], 5) && recv(c[who], buf, 2, 0) == 2 &&
                 memcmp(buf, "dn", 2) == 0, "accepted end -> client %d: '%s'", who, buf);
    }
    cf_check(seen == 3, "the same client came twice");
    cf_pass();
}
