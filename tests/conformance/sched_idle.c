/* SCHED_IDLE, which an unprivileged process may take, and a nice of 7: both the same
 * after the restart. */
#include "conf.h"
#include <sched.h>
#include <sys/resource.h>

int main(void)
{
    struct sched_param p = { 0 };
    cf_sys(sched_setscheduler(0, SCHED_IDLE, &p));
    cf_sys(setpriority(PRIO_PROCESS, 0, 7));
    cf_ready();
    cf_wait();
    int pol = sched_getscheduler(0);
    cf_check(pol == SCHED_IDLE, "policy: expected SCHED_IDLE (%d), got %d", SCHED_IDLE, pol);
    errno = 0;
    int n = getpriority(PRIO_PROCESS, 0);
    cf_check(n == 7, "nice: expected 7, got %d", n);
    cf_pass();
}
