/* PR_SET_DUMPABLE 0 (not dumpable). */
#include "conf.h"
#include <sys/prctl.h>

int main(void)
{
    cf_sys(prctl(PR_SET_DUMPABLE, 0, 0, 0, 0));
    cf_ready();
    cf_wait();
    long v = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
    cf_check(v == 0, "PR_GET_DUMPABLE: expected %ld, got %ld", (long)(0), v);
    cf_pass();
}
