/* A region advised MADV_DONTDUMP (VmFlags dd: left out of core dumps), with data. */
#include "conf.h"
#include <sys/mman.h>

#define LEN (4 << 20)

int main(void)
{
    char *m = mmap(NULL, 2 * LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cf_check(m != MAP_FAILED, "mmap: %s", strerror(errno));
    m = (char *)(((uintptr_t)m + LEN - 1) & ~(uintptr_t)(LEN - 1)); /* 2 MiB aligned, inside */
    memset(m, 0x5a, LEN);
    cf_sys(madvise(m, LEN, MADV_DONTDUMP));
    cf_check(cf_has_vmflag(m, "dd"), "setup: no VmFlag dd after madvise MADV_DONTDUMP (VmFlags:%s)", cf_vmflags(m));
    cf_ready();
    cf_wait();
    cf_check(cf_has_vmflag(m, "dd"), "VmFlags: expected dd (MADV_DONTDUMP), got:%s", cf_vmflags(m));
    for (size_t i = 0; i < LEN; i += 4096)
        cf_check(m[i] == 0x5a, "data at +%zu: expected 0x5a, got 0x%02x", i, (unsigned char)m[i]);

    cf_pass();
}
