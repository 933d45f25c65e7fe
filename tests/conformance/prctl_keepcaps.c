/* PR_SET_KEEPCAPS. */
#include "conf.h"
#include <sys/prctl.h>

int main(void)
{
    cf_sys(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0));
    cf_ready();
    cf_wait();
    long v = prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0);
    cf_check(v == 1, "PR_GET_KEEPCAPS: expected %ld, got %ld", (long)(1), v);
    cf_pass();
}
