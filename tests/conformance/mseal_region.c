/* A region sealed with mseal (Linux 6.10, VmFlags sl), with data: still sealed
 * (munmap and mprotect refused with EPERM), the data intact. */
#include "conf.h"
#include <sys/mman.h>

#define LEN (8 * 4096)
#ifndef SYS_mseal
#define SYS_mseal 462
#endif

int main(void)
{
    char *m = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cf_check(m != MAP_FAILED, "mmap: %s", strerror(errno));
    cf_fill(m, LEN, 31);
    uint64_t want = cf_sum(m, LEN);
    cf_sys(syscall(SYS_mseal, m, LEN, 0));
    cf_check(cf_has_vmflag(m, "sl"), "setup: no VmFlag sl after mseal (VmFlags:%s)", cf_vmflags(m));
    cf_ready();
    cf_wait();
    cf_check(cf_has_vmflag(m, "sl"), "VmFlags: expected sl (mseal), got:%s", cf_vmflags(m));
    cf_check(mprotect(m, LEN, PROT_READ) < 0 && errno == EPERM, "mprotect of the sealed region: expected EPERM, got %s",
             errno == EPERM ? "success" : strerror(errno));
    cf_check(munmap(m, LEN) < 0 && errno == EPERM, "munmap of the sealed region: expected EPERM, got %s",
             errno == EPERM ? "success" : strerror(errno));
    cf_check(cf_sum(m, LEN) == want, "the sealed region's data differs");
    cf_pass();
}
