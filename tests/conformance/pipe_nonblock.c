/* O_NONBLOCK on the read end of an empty pipe (reading says EAGAIN), not on its
 * write end. */
#include "conf.h"

int main(void)
{
    int p[2];
    cf_sys(pipe(p));
    cf_sys(fcntl(p[0], F_SETFL, O_NONBLOCK));
    cf_ready();
    cf_wait();
    cf_check(fcntl(p[0], F_GETFL) & O_NONBLOCK, "read end: expected O_NONBLOCK, got flags 0%o", fcntl(p[0], F_GETFL));
    cf_check(!(fcntl(p[1], F_GETFL) & O_NONBLOCK), "write end: expected blocking, got O_NONBLOCK");
    char c;
    cf_check(read(p[0], &c, 1) < 0 && errno == EAGAIN, "reading the empty pipe: expected EAGAIN, got %s", strerror(errno));
    cf_write_all(p[1], "y", 1);
    cf_check(read(p[0], &c, 1) == 1 && c == 'y', "the pipe no longer carries data");
    cf_pass();
}
