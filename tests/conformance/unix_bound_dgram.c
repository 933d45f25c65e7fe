/* A unix datagram socket bound to a path, not connected: same address, and a
 * datagram sent to the path afterwards reaches it. */
#include "conf.h"

int main(void)
{
    int s = socket(AF_UNIX, SOCK_DGRAM, 0);
    cf_sys(s);
    struct sockaddr_un a;
    socklen_t len = cf_unix_addr("bound.sock", &a);
    cf_sys(bind(s, (void *)&a, len));
    cf_ready();
    cf_wait();
    cf_check(strcmp(cf_sockname(s, 0), "unix bound.sock") == 0, "address: expected 'unix bound.sock', got %s",
             cf_sockname(s, 0));
    int c = socket(AF_UNIX, SOCK_DGRAM, 0);
    cf_check(sendto(c, "to the path", 11, 0, (void *)&a, len) == 11, "sendto bound.sock afterwards: %s", strerror(errno));
    char buf[32] = "";
    cf_check(cf_readable(s, 5), "the datagram sent to bound.sock did not arrive");
    cf_check(recv(s, buf, sizeof buf, 0) == 11 && memcmp(buf, "to the path", 11) == 0, "received '%s'", buf);
    cf_pass();
}
