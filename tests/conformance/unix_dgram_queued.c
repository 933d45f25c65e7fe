/* Datagrams queued to a unix datagram socket bound to a path, sent by another socket
 * of the process bound to a path of its own: they come out in order, each from that
 * path. */
#include "conf.h"

int main(void)
{
    struct sockaddr_un a, b;
    socklen_t alen = cf_unix_addr("server.sock", &a), blen = cf_unix_addr("client.sock", &b);
    unlink("server.sock");
    unlink("client.sock");
    int s = socket(AF_UNIX, SOCK_DGRAM, 0), c = socket(AF_UNIX, SOCK_DGRAM, 0);
    cf_sys(s);
    cf_sys(c);
    cf_sys(bind(s, (void *)&a, alen));
    cf_sys(bind(c, (void *)&b, blen));
    static const char *msg[] = { "first", "", "the third one" };
    for (int i = 0; i < 3; i++)
        cf_check(sendto(c, msg[i], strlen(msg[i]), 0, (void *)&a, alen) == (ssize_t)strlen(msg[i]), "sendto: %s",
                 strerror(errno));
    cf_ready();
    cf_wait();
    for (int i = 0; i < 3; i++) {
        char buf[32] = "";
        struct sockaddr_storage from;
        socklen_t flen = sizeof from;
        ssize_t n = recvfrom(s, buf, sizeof buf, MSG_DONTWAIT, (void *)&from, &flen);
        cf_check(n == (ssize_t)strlen(msg[i]) && memcmp(buf, msg[i], (size_t)n) == 0,
                 "datagram %d: expected '%s', got %zd bytes (%s)", i + 1, msg[i], n, n < 0 ? strerror(errno) : buf);
        cf_check(strcmp(cf_addr_str(&from, flen), "unix client.sock") == 0,
                 "datagram %d: expected from 'unix client.sock', got from %s", i + 1, cf_addr_str(&from, flen));
    }
    char buf[4];
    cf_check(recv(s, buf, sizeof buf, MSG_DONTWAIT) < 0 && errno == EAGAIN, "expected no more datagrams");
    unlink("server.sock");
    unlink("client.sock");
    cf_pass();
}
