/* A unix stream socket never bound nor connected: still one, and usable (bound and
 * listening afterwards, it accepts a client). */
#include "conf.h"

int main(void)
{
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    cf_sys(s);
    cf_ready();
    cf_wait();
    cf_check(cf_getint(s, SOL_SOCKET, SO_DOMAIN) == AF_UNIX, "SO_DOMAIN: expected AF_UNIX");
    cf_check(cf_getint(s, SOL_SOCKET, SO_TYPE) == SOCK_STREAM, "SO_TYPE: expected SOCK_STREAM");
    cf_check(strcmp(cf_sockname(s, 0), "unix, unnamed") == 0, "address: expected unnamed, got %s", cf_sockname(s, 0));
    cf_check(strcmp(cf_sockname(s, 1), "(Transport endpoint is not connected)") == 0, "peer: expected none, got %s",
             cf_sockname(s, 1));
    struct sockaddr_un a;
    socklen_t len = cf_unix_addr("late.sock", &a);
    unlink("late.sock");
    cf_check(bind(s, (void *)&a, len) == 0, "bind afterwards: %s", strerror(errno));
    cf_sys(listen(s, 1));
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    cf_check(connect(c, (void *)&a, len) == 0, "connect to it afterwards: %s", strerror(errno));
    int k = accept(s, NULL, NULL);
    cf_check(k >= 0, "accept afterwards: %s", strerror(errno));
    unlink("late.sock");
    cf_pass();
}
