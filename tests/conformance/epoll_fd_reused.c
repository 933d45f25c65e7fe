/* An epoll interest added as fd N, whose file now lives on only through a dup, while N
 * was reused for another file: the interest still reports the first file, and N (the
 * other file) can be added as an interest of its own. */
#include "conf.h"
#include <sys/epoll.h>
#include <sys/eventfd.h>

int main(void)
{
    int p[2];
    cf_sys(pipe(p));
    int ep = epoll_create1(0);
    cf_sys(ep);
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 1 };
    cf_sys(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
    int keep = dup(p[0]);
    cf_sys(keep);
    int n = p[0];
    close(n);
    int other = eventfd(0, EFD_NONBLOCK);
    cf_check(other == n, "the eventfd did not take fd %d (got %d)", n, other);
    cf_ready();
    cf_wait();
    uint64_t one = 1;
    cf_check(write(other, &one, 8) == 8, "eventfd write: %s", strerror(errno));
    struct epoll_event got;
    cf_check(epoll_wait(ep, &got, 1, 0) == 0, "an event before the pipe has data (the eventfd at fd %d is not watched)", n);
    cf_write_all(p[1], "x", 1);
    cf_check(epoll_wait(ep, &got, 1, 5000) == 1 && got.data.u64 == 1, "no event for the pipe once it has data");
    ev.data.u64 = 2;
    cf_check(epoll_ctl(ep, EPOLL_CTL_ADD, n, &ev) == 0, "adding fd %d (the eventfd): %s", n, strerror(errno));
    cf_check(epoll_wait(ep, &got, 1, 0) == 1, "no event once both are watched");
    char c;
    cf_check(read(keep, &c, 1) == 1, "the dup does not read the pipe");
    cf_check(epoll_wait(ep, &got, 1, 0) == 1 && got.data.u64 == 2, "the eventfd's own interest does not report");
    cf_pass();
}
