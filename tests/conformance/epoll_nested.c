/* An epoll instance inside another, the inner one watching an eventfd: an event on
 * the eventfd wakes the outer one. */
#include "conf.h"
#include <sys/epoll.h>
#include <sys/eventfd.h>

int main(void)
{
    int outer = epoll_create1(0), inner = epoll_create1(0), e = eventfd(0, EFD_NONBLOCK);
    cf_sys(outer);
    cf_sys(inner);
    cf_sys(e);
    struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 111 };
    cf_sys(epoll_ctl(inner, EPOLL_CTL_ADD, e, &ev));
    ev.data.u32 = 222;
    cf_sys(epoll_ctl(outer, EPOLL_CTL_ADD, inner, &ev));
    cf_ready();
    cf_wait();
    struct epoll_event got;
    cf_check(epoll_wait(outer, &got, 1, 0) == 0, "the outer epoll has an event before any");
    uint64_t one = 1;
    cf_check(write(e, &one, 8) == 8, "eventfd write: %s", strerror(errno));
    int n = epoll_wait(outer, &got, 1, 5000);
    cf_check(n == 1 && got.data.u32 == 222, "outer: expected the inner epoll's event (222), got %d events, data %u", n, got.data.u32);
    n = epoll_wait(inner, &got, 1, 0);
    cf_check(n == 1 && got.data.u32 == 111, "inner: expected the eventfd's event (111), got %d events, data %u", n, got.data.u32);
    cf_pass();
}
