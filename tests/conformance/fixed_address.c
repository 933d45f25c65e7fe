/* A region mapped at an address of the program's choosing (0x200000000000). */
#include "conf.h"
#include <sys/mman.h>

#define ADDR ((char *)0x200000000000UL)
#define LEN (8 * 4096)

int main(void)
{
    char *m = mmap(ADDR, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    cf_check(m == ADDR, "mmap at %p: %s", (void *)ADDR, m == MAP_FAILED ? strerror(errno) : "elsewhere");
    cf_fill(m, LEN, 5);
    uint64_t want = cf_sum(m, LEN);
    cf_ready();
    cf_wait();
    struct cf_map mp;
    cf_check(cf_map_of(ADDR, &mp) && mp.lo <= (unsigned long)ADDR && mp.hi >= (unsigned long)ADDR + LEN && !strcmp(mp.perms, "rw-p"),
             "%p: expected rw-p for 8 pages, got %s %lx-%lx", (void *)ADDR, mp.perms, mp.lo, mp.hi);
    cf_check(cf_sum(ADDR, LEN) == want, "the data at %p differs", (void *)ADDR);
    cf_pass();
}
