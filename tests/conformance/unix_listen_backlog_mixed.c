/* A listening unix socket with three connections not accepted yet, in order: one that
 * sent a line, one that sent nothing, and one bound to an abstract name, non-blocking,
 * with SO_SNDBUF set, that sent a larger message.  They are accepted afterwards in that
 * order with what each sent, each client keeps its fd, flags, name and option, and
 * each gets the reply. */
#include "conf.h"

#define BIG 50000

int main(void)
{
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    cf_sys(s);
    struct sockaddr_un a, b;
    socklen_t len = cf_unix_addr("mixed.sock", &a);
    cf_sys(bind(s, (void *)&a, len));
    cf_sys(listen(s, 8));
    int c[3];
    for (int i = 0; i < 3; i++)
        cf_sys(c[i] = socket(AF_UNIX, SOCK_STREAM, 0));
    memset(&b, 0, sizeof b);
    b.sun_family = AF_UNIX;
    int blen = snprintf(b.sun_path + 1, sizeof b.sun_path - 1, "cf-mixed-%d", getpid()) + 1;
    socklen_t bl = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)blen);
    cf_sys(bind(c[2], (void *)&b, bl));
    cf_setint(c[2], SOL_SOCKET, SO_SNDBUF, 300000);
    int snd = cf_getint(c[2], SOL_SOCKET, SO_SNDBUF);
    for (int i = 0; i < 3; i++)
        cf_sys(connect(c[i], (void *)&a, len));
    cf_write_all(c[0], "first", 5);
    static char big[BIG], got[BIG];
    cf_fill(big, BIG, 7);
    cf_write_all(c[2], big, BIG);
    cf_sys(fcntl(c[2], F_SETFL, O_NONBLOCK));
    cf_ready();
    cf_wait();
    cf_check(fcntl(c[2], F_GETFL) & O_NONBLOCK, "the third client lost O_NONBLOCK");
    cf_check(cf_getint(c[2], SOL_SOCKET, SO_SNDBUF) == snd, "the third client's SO_SNDBUF: "
             "expected %d, got %d", snd, cf_getint(c[2], SOL_SOCKET, SO_SNDBUF));
    struct sockaddr_un n;
    socklen_t nl = sizeof n;
    cf_sys(getsockname(c[2], (void *)&n, &nl));
    cf_check(nl == bl && !memcmp(&n, &b, bl), "the third client's abstract name was lost");
    int k[3];
    for (int i = 0; i < 3; i++) {
        cf_check(cf_readable(s, 5), "connection %d of the backlog is not there to accept", i + 1);
        cf_sys(k[i] = accept(s, NULL, NULL));
    }
    char buf[8] = "";
    cf_check(cf_readable(k[0], 5) && recv(k[0], buf, 5, MSG_WAITALL) == 5 && !memcmp(buf, "first", 5),
             "the first accepted: expected 'first', got '%.5s'", buf);
    cf_check(!cf_readable(k[1], 0.2), "the second accepted has data: it sent nothing");
    cf_read_all(k[2], got, BIG, "the third accepted");
    cf_check(!memcmp(got, big, BIG), "the third accepted: wrong bytes");
    for (int i = 0; i < 3; i++) {
        cf_check(send(k[i], "ok", 2, MSG_NOSIGNAL) == 2 && cf_readable(c[i], 5) && recv(c[i], buf, 2, 0) == 2,
                 "client %d did not get the reply", i + 1);
        cf_check(!cf_readable(k[i], 0) , "accepted %d has more than was sent", i + 1);
    }
    cf_pass();
}
