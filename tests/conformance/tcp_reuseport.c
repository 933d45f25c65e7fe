/* Two TCP listeners in one SO_REUSEPORT group on 127.0.0.1:P and one on [::1]:P (a
 * group of its own), with a connection accepted from the group: all listen again on
 * the same port with their options, the kernel spreading new clients over the group. */
#include "tcp_conf.h"

int main(void)
{
    struct sockaddr_storage a, a6;
    socklen_t len = cf_loopback(AF_INET, 0, &a);
    int l[2];
    for (int i = 0; i < 2; i++) {
        l[i] = socket(AF_INET, SOCK_STREAM, 0);
        cf_sys(l[i]);
        cf_setint(l[i], SOL_SOCKET, SO_REUSEPORT, 1);
        cf_sys(bind(l[i], (void *)&a, len));
        cf_sys(listen(l[i], 16));
        len = sizeof a;
        cf_sys(getsockname(l[i], (void *)&a, &len));
    }
    socklen_t len6 = cf_loopback(AF_INET6, ntohs(((struct sockaddr_in *)&a)->sin_port), &a6);
    int l6 = socket(AF_INET6, SOCK_STREAM, 0);
    cf_sys(l6);
    cf_setint(l6, SOL_SOCKET, SO_REUSEPORT, 1);
    cf_sys(bind(l6, (void *)&a6, len6));
    cf_sys(listen(l6, 4));
    int c, k = -1;
    c = socket(AF_INET, SOCK_STREAM, 0);
    cf_sys(connect(c, (void *)&a, len));
    for (int i = 0; k < 0 && i < 2; i++)
        if (cf_readable(l[i], i ? 5 : 0.5))
            k = accept(l[i], NULL, NULL);
    cf_check(k >= 0, "the first client was not accepted");
    char w[3][160];
    snprintf(w[0], 160, "%s", cf_sockname(l[0], 0));
    snprintf(w[1], 160, "%s", cf_sockname(l[1], 0));
    snprintf(w[2], 160, "%s", cf_sockname(l6, 0));
    cf_ready();
    cf_wait();
    int ls[3] = { l[0], l[1], l6 };
    for (int i = 0; i < 3; i++) {
        cf_check(strcmp(cf_sockname(ls[i], 0), w[i]) == 0, "listener %d: expected %s, got %s", i, w[i],
                 cf_sockname(ls[i], 0));
        cf_check(cf_getint(ls[i], SOL_SOCKET, SO_REUSEPORT) == 1 && cf_getint(ls[i], SOL_SOCKET, SO_ACCEPTCONN) == 1,
                 "listener %d: expected listening with SO_REUSEPORT", i);
    }
    int got[2] = { 0, 0 };
    for (int n = 0; n < 32; n++) {
        int x = socket(AF_INET, SOCK_STREAM, 0);
        cf_check(x >= 0 && connect(x, (void *)&a, len) == 0, "client %d: connect: %s", n, strerror(errno));
        struct pollfd p[2] = { { l[0], POLLIN, 0 }, { l[1], POLLIN, 0 } };
        cf_check(poll(p, 2, 5000) > 0, "client %d was not seen by the group", n);
        int i = (p[0].revents & POLLIN) ? 0 : 1;
        int y = accept(ls[i], NULL, NULL);
        cf_check(y >= 0, "client %d: accept: %s", n, strerror(errno));
        got[i]++;
        close(y);
        close(x);
    }
    cf_check(got[0] && got[1], "the group's clients all went to one listener (%d, %d)", got[0], got[1]);
    int x = socket(AF_INET6, SOCK_STREAM, 0);
    cf_check(x >= 0 && connect(x, (void *)&a6, len6) == 0, "IPv6 client: connect: %s", strerror(errno));
    cf_check(cf_readable(l6, 5), "the IPv6 listener did not see its client");
    cf_sys(send(k, "k", 1, 0));
    char b;
    cf_check(cf_readable(c, 5) && recv(c, &b, 1, 0) == 1, "the accepted connection does not carry data");
    cf_pass();
}
