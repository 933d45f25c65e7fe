/* A nice value of 7. */
#include "conf.h"
#include <sys/resource.h>

int main(void)
{
    cf_sys(setpriority(PRIO_PROCESS, 0, 7));
    cf_ready();
    cf_wait();
    long v = ({ errno = 0; getpriority(PRIO_PROCESS, 0); });
    cf_check(v == 7, "the nice value (getpriority): expected %ld, got %ld", (long)(7), v);
    cf_pass();
}
