/* PR_SET_TIMERSLACK of 123456 ns. */
#include "conf.h"
#include <sys/prctl.h>

int main(void)
{
    cf_sys(prctl(PR_SET_TIMERSLACK, 123456, 0, 0, 0));
    cf_ready();
    cf_wait();
    long v = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
    cf_check(v == 123456, "PR_GET_TIMERSLACK: expected %ld, got %ld", (long)(123456), v);
    cf_pass();
}
