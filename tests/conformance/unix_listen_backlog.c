/* A listening unix socket with a connection in its backlog that sent a line: it is
 * accepted afterwards with the line, and the client gets the reply. */
#include "conf.h"

int main(void)
{
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    cf_sys(s);
    struct sockaddr_un a;
    socklen_t len = cf_unix_addr("listen.sock", &a);
    cf_sys(bind(s, (void *)&a, len));
    cf_sys(listen(s, 4));
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    cf_sys(connect(c, (void *)&a, len));
    cf_write_all(c, "waiting", 7);
    cf_ready();
    cf_wait();
    cf_check(cf_readable(s, 5), "the connection of the backlog is not there to accept");
    int k = accept(s, NULL, NULL);
    cf_check(k >= 0, "accept: %s", strerror(errno));
    char buf[8] = "";
    cf_check(cf_readable(k, 5) && recv(k, buf, 7, MSG_WAITALL) == 7 && memcmp(buf, "waiting", 7) == 0,
             "accepted: expected 'waiting', got '%s'", buf);
    cf_check(send(k, "ok", 2, MSG_NOSIGNAL) == 2 && cf_readable(c, 5) && recv(c, buf, 2, 0) == 2,
             "the client did not get the reply");
    cf_pass();
}
