/* The backlog a program gave listen() (1): as many clients as it lets wait before a
 * connect would block, no more. */
#include "conf.h"

/* how many non-blocking clients the listener at name takes before EAGAIN */
static int clients_taken(const char *name, int *fds)
{
    struct sockaddr_un a;
    socklen_t len = cf_unix_addr(name, &a);
    for (int n = 0; n < 64; n++) {
        fds[n] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (connect(fds[n], (void *)&a, len) < 0) {
            cf_check(errno == EAGAIN, "connect %d to %s: %s", n + 1, name, strerror(errno));
            close(fds[n]);
            return n;
        }
    }
    return 64;
}

static int listener(const char *name, int backlog)
{
    struct sockaddr_un a;
    socklen_t len = cf_unix_addr(name, &a);
    unlink(name);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    cf_sys(s);
    cf_sys(bind(s, (void *)&a, len));
    cf_sys(listen(s, backlog));
    return s;
}

int main(void)
{
    int fds[64];
    /* what backlog 1 lets wait here, on a listener of its own */
    int probe = listener("probe.sock", 1), want = clients_taken("probe.sock", fds);
    for (int k = 0; k < want; k++)
        close(fds[k]);
    close(probe);
    unlink("probe.sock");
    int s = listener("small.sock", 1);
    cf_ready();
    cf_wait();
    int got = clients_taken("small.sock", fds);
    cf_check(got == want, "clients waiting before a connect blocks: expected %d (backlog 1), got %d", want, got);
    unlink("small.sock");
    (void)s;
    cf_pass();
}
