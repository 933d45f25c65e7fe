/* PR_SET_CHILD_SUBREAPER. */
#include "conf.h"
#include <sys/prctl.h>

int main(void)
{
    cf_sys(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0));
    cf_ready();
    cf_wait();
    long v = ({ int s_ = 0; prctl(PR_GET_CHILD_SUBREAPER, &s_, 0, 0, 0); s_; });
    cf_check(v == 1, "PR_GET_CHILD_SUBREAPER: expected %ld, got %ld", (long)(1), v);
    cf_pass();
}
