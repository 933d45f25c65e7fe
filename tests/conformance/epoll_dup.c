/* An epoll instance watching a pipe through an fd that was dup'ed and then closed:
 * the interest stays (the same open file), with its data and events, keyed by the
 * closed fd's number. */
#include "conf.h"
#include <sys/epoll.h>

int main(void)
{
    int p[2];
    cf_sys(pipe(p));
    int ep = epoll_create1(0);
    cf_sys(ep);
    int keep = dup(p[0]);
    cf_sys(keep);
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0xfeedbeefcafeULL };
    cf_sys(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
    close(p[0]);
    cf_ready();
    cf_wait();
    struct epoll_event got;
    cf_check(epoll_wait(ep, &got, 1, 0) == 0, "an event before any data");
    cf_write_all(p[1], "x", 1);
    int n = epoll_wait(ep, &got, 1, 5000);
    cf_check(n == 1, "no event once the pipe has data (%d: %s)", n, n < 0 ? strerror(errno) : "none");
    cf_check(got.data.u64 == 0xfeedbeefcafeULL && (got.events & EPOLLIN), "event: expected data 0xfeedbeefcafe EPOLLIN, got 0x%llx events 0x%x",
             (unsigned long long)got.data.u64, got.events);
    char c;
    cf_check(read(keep, &c, 1) == 1 && c == 'x', "the dup'ed read end does not read the pipe");
    /* the interest is still keyed by the closed number, not by the dup's */
    cf_check(epoll_ctl(ep, EPOLL_CTL_DEL, keep, NULL) < 0 && errno == ENOENT,
             "EPOLL_CTL_DEL of the dup: expected ENOENT (the interest was added as fd %d), got %s", p[0],
             strerror(errno));
    cf_pass();
}
