/* A write-only region (PROT_WRITE) with data written through it. */
#include "conf.h"
#include <sys/mman.h>

#define LEN (4 * 4096)

int main(void)
{
    char *m = mmap(NULL, LEN, PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cf_check(m != MAP_FAILED, "mmap: %s", strerror(errno));
    static char want[LEN];
    cf_fill(want, LEN, 77);
    memcpy(m, want, LEN);
    cf_ready();
    cf_wait();
    struct cf_map mp;
    cf_check(cf_map_of(m, &mp), "the region is gone");
    cf_check(strcmp(mp.perms, "-w-p") == 0, "protection: expected -w-p, got %s", mp.perms);
    cf_sys(mprotect(m, LEN, PROT_READ));
    cf_check(memcmp(m, want, LEN) == 0, "the data written differs");
    cf_pass();
}
