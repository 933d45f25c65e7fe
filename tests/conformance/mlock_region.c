/* A region locked in memory with mlock (VmFlags lo), with data. */
#include "conf.h"
#include <sys/mman.h>

#define LEN (16 * 4096)

int main(void)
{
    char *m = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cf_check(m != MAP_FAILED, "mmap: %s", strerror(errno));
    cf_fill(m, LEN, 99);
    uint64_t want = cf_sum(m, LEN);
    cf_sys(mlock(m, LEN));
    cf_ready();
    cf_wait();
    cf_check(cf_has_vmflag(m, "lo"), "VmFlags: expected lo (mlock), got:%s", cf_vmflags(m));
    cf_check(cf_sum(m, LEN) == want, "the locked region's data differs");
    cf_pass();
}
