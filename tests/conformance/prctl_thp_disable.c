/* PR_SET_THP_DISABLE. */
#include "conf.h"
#include <sys/prctl.h>

int main(void)
{
    cf_sys(prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0));
    cf_ready();
    cf_wait();
    long v = prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0);
    cf_check(v == 1, "PR_GET_THP_DISABLE: expected %ld, got %ld", (long)(1), v);
    cf_pass();
}
