/* A listening unix socket with a connection in its backlog on which nothing was sent
 * yet: it is accepted afterwards and talks with its client both ways. */
#include "conf.h"

int main(void)
{
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    cf_sys(s);
    struct sockaddr_un a;
    socklen_t len = cf_unix_addr("quiet.sock", &a);
    unlink("quiet.sock");
    cf_sys(bind(s, (void *)&a, len));
    cf_sys(listen(s, 4));
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    cf_sys(connect(c, (void *)&a, len));
    cf_ready();
    cf_wait();
    cf_check(strcmp(cf_sockname(c, 1), "unix quiet.sock") == 0, "client's peer: expected 'unix quiet.sock', got %s",
             cf_sockname(c, 1));
    cf_check(cf_readable(s, 5), "the connection of the backlog is not there to accept");
    int k = accept(s, NULL, NULL);
    cf_check(k >= 0, "accept: %s", strerror(errno));
    char buf[4] = "";
    cf_check(send(c, "up", 2, MSG_NOSIGNAL) == 2 && cf_readable(k, 5) && recv(k, buf, 2, 0) == 2 && memcmp(buf, "up", 2) == 0,
             "client -> accepted end: '%s'", buf);
    cf_check(send(k, "dn", 2, MSG_NOSIGNAL) == 2 && cf_readable(c, 5) && recv(c, buf, 2, 0) == 2 && memcmp(buf, "dn", 2) == 0,
             "accepted end -> client: '%s'", buf);
    unlink("quiet.sock");
    cf_pass();
}
