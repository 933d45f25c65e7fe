/* A memfd mapped MAP_SHARED, written through the mapping: the fd and the mapping
 * are still one memory. */
#include "conf.h"
#include <sys/mman.h>

#define LEN 65536

int main(void)
{
    int fd = memfd_create("conf-mapped", 0);
    cf_sys(fd);
    cf_sys(ftruncate(fd, LEN));
    char *m = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    cf_check(m != MAP_FAILED, "mmap: %s", strerror(errno));
    cf_fill(m, LEN, 8);
    uint64_t want = cf_sum(m, LEN);
    cf_ready();
    cf_wait();
    static char got[LEN];
    cf_check(pread(fd, got, LEN, 0) == LEN && cf_sum(got, LEN) == want, "the memfd's contents differ");
    cf_check(cf_sum(m, LEN) == want, "the mapping's contents differ");
    memcpy(m + 100, "via map", 7);
    cf_check(pread(fd, got, 7, 100) == 7 && memcmp(got, "via map", 7) == 0, "a write to the mapping afterwards does not reach the memfd");
    cf_sys(pwrite(fd, "via fd", 6, 200));
    cf_check(memcmp(m + 200, "via fd", 6) == 0, "a write to the memfd afterwards does not show in the mapping");
    cf_pass();
}
