/* PR_SET_MDWE PR_MDWE_REFUSE_EXEC_GAIN (no memory may become writable and executable):
 * the same after the restart, and an mprotect to PROT_EXEC of writable memory still
 * fails. */
#include "conf.h"
#include <sys/mman.h>
#include <sys/prctl.h>
#ifndef PR_SET_MDWE
#define PR_SET_MDWE 65
#define PR_GET_MDWE 66
#define PR_MDWE_REFUSE_EXEC_GAIN 1
#endif

int main(void)
{
    if (prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) < 0 && errno == EINVAL) { /* an older kernel */
        cf_ready();
        cf_wait();
        cf_pass();
    }
    cf_ready();
    cf_wait();
    int v = prctl(PR_GET_MDWE, 0, 0, 0, 0);
    cf_check(v >= 0 && (v & PR_MDWE_REFUSE_EXEC_GAIN), "PR_GET_MDWE: expected REFUSE_EXEC_GAIN, got %d", v);
    char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cf_check(p != MAP_FAILED, "mmap: %s", strerror(errno));
    cf_check(mprotect(p, 4096, PROT_READ | PROT_EXEC) < 0, "writable memory became executable: MDWE lost");
    cf_pass();
}
