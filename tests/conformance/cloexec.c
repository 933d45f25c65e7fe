/* Close-on-exec set on some descriptors and not on others. */
#include "conf.h"

int main(void)
{
    int a = open("/dev/null", O_RDONLY | O_CLOEXEC), b = open("/dev/null", O_RDONLY), c = dup(b), p[2];
    cf_sys(a);
    cf_sys(b);
    cf_sys(pipe2(p, O_CLOEXEC));
    cf_sys(fcntl(c, F_SETFD, FD_CLOEXEC));
    cf_sys(fcntl(p[1], F_SETFD, 0));
    int fds[] = { a, b, c, p[0], p[1] }, want[] = { 1, 0, 1, 1, 0 };
    cf_ready();
    cf_wait();
    for (int i = 0; i < 5; i++) {
        int f = fcntl(fds[i], F_GETFD);
        cf_check(f >= 0 && !!(f & FD_CLOEXEC) == want[i], "fd %d: FD_CLOEXEC expected %s, got %s", fds[i], want[i] ? "set" : "clear",
                 f < 0 ? strerror(errno) : (f & FD_CLOEXEC) ? "set" : "clear");
    }
    cf_pass();
}
