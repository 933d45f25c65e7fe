/* A TCP connection inside the process (client and accepted end), data queued both
 * ways, TCP_NODELAY on the client: still TCP with the same addresses and option,
 * and the data is there. */
#include "tcp_conf.h"

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
    int c = tc_client(AF_INET, 0); /* a port the restart finds free (tcp_conf.h) */
    cf_sys(connect(c, (void *)&a, len));
    int k = accept(s, NULL, NULL);
    cf_sys(k);
    cf_setint(c, IPPROTO_TCP, TCP_NODELAY, 1);
    cf_write_all(c, "to server", 9);
    cf_write_all(k, "to client", 9);
    char cl[160], pe[160];
    snprintf(cl, sizeof cl, "%s", cf_sockname(c, 0));
    snprintf(pe, sizeof pe, "%s", cf_sockname(c, 1));
    cf_ready();
    cf_wait();
    char buf[16] = "";
    cf_check(cf_readable(k, 5) && recv(k, buf, 9, MSG_WAITALL) == 9 && memcmp(buf, "to server", 9) == 0, "server end: expected 'to server', got '%s'", buf);
    cf_check(cf_readable(c, 5) && recv(c, buf, 9, MSG_WAITALL) == 9 && memcmp(buf, "to client", 9) == 0, "client end: expected 'to client', got '%s'", buf);
    cf_check(strcmp(cf_sockname(c, 0), cl) == 0 && strcmp(cf_sockname(c, 1), pe) == 0,
             "client addresses: expected %s -> %s, got %s -> %s", cl, pe, cf_sockname(c, 0), cf_sockname(c, 1));
    cf_check(cf_getint(c, SOL_SOCKET, SO_PROTOCOL) == IPPROTO_TCP, "client: SO_PROTOCOL expected TCP");
    cf_check(cf_getint(c, IPPROTO_TCP, TCP_NODELAY) == 1, "client: TCP_NODELAY expected 1");
    cf_pass();
}
