/* Status flags of several kinds: a file O_RDONLY|O_NONBLOCK, a file
 * O_WRONLY|O_APPEND|O_NOATIME, a pipe's write end O_APPEND|O_NONBLOCK. */
#include "conf.h"

int main(void)
{
    int w = open("flags", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    cf_sys(w);
    int a = open("flags", O_RDONLY | O_NONBLOCK), b = open("flags", O_WRONLY | O_APPEND | O_NOATIME), p[2];
    cf_sys(a);
    cf_sys(b);
    cf_sys(pipe(p));
    cf_sys(fcntl(p[1], F_SETFL, O_APPEND | O_NONBLOCK));
    int fds[] = { a, b, p[1] };
    int want[3];
    for (int i = 0; i < 3; i++)
        want[i] = fcntl(fds[i], F_GETFL);
    cf_ready();
    cf_wait();
    const char *name[] = { "O_RDONLY|O_NONBLOCK file", "O_WRONLY|O_APPEND|O_NOATIME file", "pipe O_APPEND|O_NONBLOCK" };
    for (int i = 0; i < 3; i++) {
        int g = fcntl(fds[i], F_GETFL);
        cf_check(g == want[i], "%s: flags expected 0%o, got 0%o", name[i], want[i], g);
    }
    cf_pass();
}
