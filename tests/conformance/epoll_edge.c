/* An edge-triggered epoll (EPOLLET) on a pipe whose edge was already taken (bytes
 * unread): after the restart no new event comes for the old bytes, and one comes
 * for a new write. */
#include "conf.h"
#include <sys/epoll.h>

int main(void)
{
    int p[2];
    cf_sys(pipe2(p, O_NONBLOCK));
    int ep = epoll_create1(0);
    cf_sys(ep);
    struct epoll_event ev = { EPOLLIN | EPOLLET, { .u64 = 42 } };
    cf_sys(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
    cf_write_all(p[1], "abc", 3);
    struct epoll_event got;
    cf_check(epoll_wait(ep, &got, 1, 5000) == 1, "no first edge");
    cf_check(epoll_wait(ep, &got, 1, 0) == 0, "a second edge before the checkpoint");
    cf_ready();
    cf_wait();
    int n = epoll_wait(ep, &got, 1, 100);
    cf_check(n == 0, "an edge for bytes already signalled came again after the restart");
    cf_write_all(p[1], "d", 1);
    cf_check(epoll_wait(ep, &got, 1, 5000) == 1 && got.data.u64 == 42 && (got.events & EPOLLIN),
             "no edge for a new write");
    char buf[8];
    cf_check(read(p[0], buf, 8) == 4 && !memcmp(buf, "abcd", 4), "the pipe's bytes are wrong");
    cf_pass();
}
