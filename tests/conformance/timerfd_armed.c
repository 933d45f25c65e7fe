/* A periodic monotonic timerfd (first expiry in 100 s, then every 0.25 s) and a
 * far absolute realtime one: still armed, same interval, and the remaining time
 * not past its first expiry. */
#include "conf.h"
#include <sys/timerfd.h>

int main(void)
{
    int t = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK), r = timerfd_create(CLOCK_REALTIME, 0);
    cf_sys(t);
    cf_sys(r);
    struct itimerspec it = { { 0, 250000000 }, { 100, 0 } };
    cf_sys(timerfd_settime(t, 0, &it, NULL));
    struct timespec now;
    syscall(SYS_clock_gettime, CLOCK_REALTIME, &now);
    struct itimerspec abs = { { 0, 0 }, { now.tv_sec + 1000, 0 } };
    cf_sys(timerfd_settime(r, TFD_TIMER_ABSTIME, &abs, NULL));
    cf_ready();
    cf_wait();
    struct itimerspec g;
    cf_sys(timerfd_gettime(t, &g));
    cf_check(g.it_interval.tv_sec == 0 && g.it_interval.tv_nsec == 250000000, "interval: expected 0.25 s, got %ld.%09ld",
             (long)g.it_interval.tv_sec, g.it_interval.tv_nsec);
    cf_check((g.it_value.tv_sec || g.it_value.tv_nsec) && g.it_value.tv_sec < 100, "monotonic timer: expected armed, under 100 s left, got %ld.%09ld",
             (long)g.it_value.tv_sec, g.it_value.tv_nsec);
    uint64_t n;
    cf_check(read(t, &n, 8) < 0 && errno == EAGAIN, "monotonic timer: expired already");
    cf_sys(timerfd_gettime(r, &g));
    cf_check(g.it_value.tv_sec > 800 && g.it_value.tv_sec <= 1000, "absolute realtime timer: expected 800-1000 s left, got %ld",
             (long)g.it_value.tv_sec);
    cf_pass();
}
