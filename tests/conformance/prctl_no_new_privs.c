/* PR_SET_NO_NEW_PRIVS. */
#include "conf.h"
#include <sys/prctl.h>

int main(void)
{
    cf_sys(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
    cf_ready();
    cf_wait();
    long v = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
    cf_check(v == 1, "PR_GET_NO_NEW_PRIVS: expected %ld, got %ld", (long)(1), v);
    cf_pass();
}
