/* The SCHED_BATCH scheduling policy. */
#include "conf.h"
#include <sched.h>

int main(void)
{
    cf_sys(sched_setscheduler(0, SCHED_BATCH, &(struct sched_param){ 0 }));
    cf_ready();
    cf_wait();
    long v = sched_getscheduler(0);
    cf_check(v == SCHED_BATCH, "the policy (sched_getscheduler; SCHED_BATCH is 3): expected %ld, got %ld", (long)(SCHED_BATCH), v);
    cf_pass();
}
