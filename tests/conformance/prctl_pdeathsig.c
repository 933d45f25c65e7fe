/* PR_SET_PDEATHSIG (SIGWINCH, harmless if it comes). */
#include "conf.h"
#include <sys/prctl.h>

int main(void)
{
    cf_sys(prctl(PR_SET_PDEATHSIG, SIGWINCH, 0, 0, 0));
    cf_ready();
    cf_wait();
    long v = ({ int s_ = 0; prctl(PR_GET_PDEATHSIG, &s_, 0, 0, 0); s_; });
    cf_check(v == SIGWINCH, "PR_GET_PDEATHSIG: expected %ld, got %ld", (long)(SIGWINCH), v);
    cf_pass();
}
