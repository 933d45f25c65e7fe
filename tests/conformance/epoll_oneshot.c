/* An EPOLLONESHOT interest that already fired (disarmed): no event afterwards until
 * it is armed again with EPOLL_CTL_MOD. */
#include "conf.h"
#include <sys/epoll.h>

int main(void)
{
    int p[2];
    cf_sys(pipe(p));
    int ep = epoll_create1(0);
    cf_sys(ep);
    struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.u32 = 9 };
    cf_sys(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
    cf_write_all(p[1], "a", 1);
    struct epoll_event got;
    cf_check(epoll_wait(ep, &got, 1, 5000) == 1, "setup: no first event");
    cf_ready();
    cf_wait();
    cf_check(epoll_wait(ep, &got, 1, 100) == 0, "the disarmed one-shot interest fired again");
    cf_sys(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
    cf_check(epoll_wait(ep, &got, 1, 5000) == 1 && got.data.u32 == 9, "armed again, the interest does not fire");
    cf_pass();
}
