/* A unix stream socket listening on an abstract name: same name, accepts a client. */
#include "conf.h"

int main(void)
{
    char name[64];
    snprintf(name, sizeof name, "@slurm-cr-conformance-%d", (int)getpid());
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    cf_sys(s);
    struct sockaddr_un a;
    socklen_t len = cf_unix_addr(name, &a);
    cf_sys(bind(s, (void *)&a, len));
    cf_sys(listen(s, 4));
    char want[80];
    snprintf(want, sizeof want, "unix %s", name);
    cf_ready();
    cf_wait();
    cf_check(strcmp(cf_sockname(s, 0), want) == 0, "address: expected %s, got %s", want, cf_sockname(s, 0));
    cf_check(cf_getint(s, SOL_SOCKET, SO_ACCEPTCONN) == 1, "SO_ACCEPTCONN: expected 1 (listening)");
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    cf_check(connect(c, (void *)&a, len) == 0, "connect to %s afterwards: %s", name, strerror(errno));
    cf_check(cf_readable(s, 5), "no connection to accept");
    int k = accept(s, NULL, NULL);
    cf_check(k >= 0, "accept: %s", strerror(errno));
    cf_check(write(c, "x", 1) == 1 && read(k, name, 1) == 1 && name[0] == 'x', "no data over the accepted connection");
    cf_pass();
}
