/* A periodic timerfd (every 20 ms) that expired many times before: it keeps
 * expiring afterwards. */
#include "conf.h"
#include <sys/timerfd.h>

int main(void)
{
    int t = timerfd_create(CLOCK_MONOTONIC, 0);
    cf_sys(t);
    struct itimerspec it = { { 0, 20000000 }, { 0, 20000000 } };
    cf_sys(timerfd_settime(t, 0, &it, NULL));
    uint64_t n = 0;
    cf_check(read(t, &n, 8) == 8 && n >= 1, "the timer does not expire");
    cf_ready();
    cf_wait();
    cf_check(read(t, &n, 8) == 8 && n >= 1, "no expiry count afterwards");
    cf_check(cf_readable(t, 5), "the timer stopped expiring (none within 5 s)");
    cf_check(read(t, &n, 8) == 8 && n >= 1, "no expiry count");
    cf_pass();
}
