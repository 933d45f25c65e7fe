/* PR_SET_TSC PR_TSC_SIGSEGV (reading the time-stamp counter faults): the same after
 * the restart (PR_GET_TSC). */
#include "conf.h"
#include <sys/prctl.h>

int main(void)
{
    if (prctl(PR_SET_TSC, PR_TSC_SIGSEGV, 0, 0, 0) < 0 && errno == EINVAL) { /* not on this architecture */
        cf_ready();
        cf_wait();
        cf_pass();
    }
    int v = 0;
    cf_sys(prctl(PR_GET_TSC, &v, 0, 0, 0));
    cf_check(v == PR_TSC_SIGSEGV, "setup: PR_GET_TSC %d", v);
    cf_ready();
    cf_wait();
    v = 0;
    cf_sys(prctl(PR_GET_TSC, &v, 0, 0, 0));
    cf_check(v == PR_TSC_SIGSEGV, "PR_GET_TSC: expected PR_TSC_SIGSEGV (%d), got %d", PR_TSC_SIGSEGV, v);
    cf_pass();
}
