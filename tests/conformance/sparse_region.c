/* A 1 GiB anonymous region with one page written every 64 MiB: the written pages
 * keep their data, the others read as zeros, the region keeps its size. */
#include "conf.h"
#include <sys/mman.h>

#define LEN (1UL << 30)
#define STEP (64UL << 20)

int main(void)
{
    char *m = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    cf_check(m != MAP_FAILED, "mmap 1 GiB: %s", strerror(errno));
    for (unsigned long o = 0; o < LEN; o += STEP)
        cf_fill(m + o, 4096, (unsigned)(o / STEP) + 1);
    cf_ready();
    cf_wait();
    struct cf_map mp;
    cf_check(cf_map_of(m, &mp) && mp.lo <= (unsigned long)m && mp.hi >= (unsigned long)m + LEN, "the region: expected 1 GiB at %p, got %lx-%lx",
             (void *)m, mp.lo, mp.hi);
    char want[4096];
    for (unsigned long o = 0; o < LEN; o += STEP) {
        cf_fill(want, 4096, (unsigned)(o / STEP) + 1);
        cf_check(memcmp(m + o, want, 4096) == 0, "the page at +%lu MiB differs", o >> 20);
        cf_check(m[o + 8192] == 0 && m[o + STEP / 2] == 0, "a page never written near +%lu MiB is not zero", o >> 20);
    }
    cf_pass();
}
