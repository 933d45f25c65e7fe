/* One pipe watched by an epoll instance through two fds (the read end and a dup
 * of it), with data of its own each: both interests fire afterwards. */
#include "conf.h"
#include <sys/epoll.h>

int main(void)
{
    int p[2];
    cf_sys(pipe(p));
    int d = dup(p[0]), ep = epoll_create1(0);
    cf_sys(d);
    cf_sys(ep);
    struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 1 };
    cf_sys(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
    ev.data.u32 = 2;
    cf_sys(epoll_ctl(ep, EPOLL_CTL_ADD, d, &ev));
    cf_ready();
    cf_wait();
    struct epoll_event got[4];
    cf_check(epoll_wait(ep, got, 4, 0) == 0, "events before any data");
    cf_write_all(p[1], "x", 1);
    int n = epoll_wait(ep, got, 4, 5000);
    int seen = 0;
    for (int i = 0; i < n; i++)
        seen |= 1 << got[i].data.u32;
    cf_check(n == 2 && seen == 6, "expected two events (data 1 and 2), got %d (mask 0x%x)", n, seen);
    cf_pass();
}
