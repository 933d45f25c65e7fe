/* mlockall(MCL_CURRENT | MCL_FUTURE) within RLIMIT_MEMLOCK: a mapping made after the
 * restart is locked too (VmLck grows), and one made before is still locked. */
#include "conf.h"
#include <sys/mman.h>
#include <sys/resource.h>

int main(void)
{
    struct rlimit rl;
    cf_sys(getrlimit(RLIMIT_MEMLOCK, &rl));
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (64 << 20)) {
        /* the whole process must fit: keep the test within the limit by locking
         * only the future mappings */
        cf_sys(mlockall(MCL_FUTURE));
    } else
        cf_sys(mlockall(MCL_CURRENT | MCL_FUTURE));
    char *before = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cf_check(before != MAP_FAILED, "mmap: %s", strerror(errno));
    before[0] = 1;
    cf_ready();
    cf_wait();
    cf_check(cf_has_vmflag(before, "lo"), "a mapping made before the checkpoint is no longer locked");
    char *after = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cf_check(after != MAP_FAILED, "mmap: %s", strerror(errno));
    cf_check(cf_has_vmflag(after, "lo"), "MCL_FUTURE was lost: a new mapping is not locked");
    cf_pass();
}
