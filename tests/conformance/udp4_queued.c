/* Three datagrams queued to a bound UDP socket, not read yet. */
#include "conf.h"

int main(void)
{
    struct sockaddr_storage a;
    int s = socket(AF_INET, SOCK_DGRAM, 0), c = socket(AF_INET, SOCK_DGRAM, 0);
    cf_sys(s);
    socklen_t len = cf_loopback(AF_INET, 0, &a);
    cf_sys(bind(s, (void *)&a, len));
    len = sizeof a;
    cf_sys(getsockname(s, (void *)&a, &len));
    static const char *msg[] = { "one", "second", "the third" };
    for (int i = 0; i < 3; i++)
        cf_check(sendto(c, msg[i], strlen(msg[i]), 0, (void *)&a, len) == (ssize_t)strlen(msg[i]), "sendto: %s", strerror(errno));
    cf_check(cf_readable(s, 5), "the datagrams did not arrive"); /* loopback delivers at once */
    cf_ready();
    cf_wait();
    for (int i = 0; i < 3; i++) {
        char buf[32] = "";
        ssize_t n = recv(s, buf, sizeof buf, MSG_DONTWAIT);
        cf_check(n == (ssize_t)strlen(msg[i]) && memcmp(buf, msg[i], (size_t)n) == 0,
                 "datagram %d: expected '%s', got %zd bytes (%s)", i + 1, msg[i], n, n < 0 ? strerror(errno) : buf);
    }
    cf_pass();
}
