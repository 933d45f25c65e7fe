/* An absolute realtime timerfd armed with TFD_TIMER_CANCEL_ON_SET far ahead: after the
 * restart it is still armed for the same moment with the same flags (fdinfo). */
#include "conf.h"
#include <sys/timerfd.h>

int main(void)
{
    int t = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
    cf_sys(t);
    struct timespec now;
    syscall(SYS_clock_gettime, CLOCK_REALTIME, &now);
    struct itimerspec at = { { 0, 0 }, { now.tv_sec + 3600, 0 } };
    cf_sys(timerfd_settime(t, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &at, NULL));
    cf_ready();
    cf_wait();
    char info[64];
    snprintf(info, sizeof info, "/proc/self/fdinfo/%d", t);
    unsigned long flags = strtoul(cf_proc_field(info, "settime flags:"), NULL, 8);
    cf_check(flags == (TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET), "settime flags: expected %o, got %lo",
             TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, flags);
    struct itimerspec g;
    cf_sys(timerfd_gettime(t, &g));
    syscall(SYS_clock_gettime, CLOCK_REALTIME, &now);
    long left = (long)(at.it_value.tv_sec - now.tv_sec);
    cf_check(g.it_value.tv_sec >= left - 2 && g.it_value.tv_sec <= left + 1, "time left: expected about %ld s, got %ld",
             left, (long)g.it_value.tv_sec);
    cf_pass();
}
