/* A file mapped MAP_PRIVATE and modified in one page: the mapping keeps the
 * modification and the file's other pages; the file itself is unchanged. */
#include "conf.h"
#include <sys/mman.h>

#define PG 4096

int main(void)
{
    static char want[3 * PG], got[3 * PG];
    cf_fill(want, sizeof want, 31);
    int fd = open("mapped", O_RDWR | O_CREAT | O_TRUNC, 0600);
    cf_sys(fd);
    cf_write_all(fd, want, sizeof want);
    char *m = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    cf_check(m != MAP_FAILED, "mmap: %s", strerror(errno));
    close(fd);
    memset(m + PG + 100, 'X', 50);
    cf_ready();
    cf_wait();
    struct cf_map mp;
    cf_check(cf_map_of(m, &mp) && strstr(mp.name, "/mapped"), "the mapping is no longer of the file 'mapped' (%s)", mp.name);
    cf_check(memcmp(m, want, PG) == 0 && memcmp(m + 2 * PG, want + 2 * PG, PG) == 0, "the unmodified pages differ from the file");
    cf_check(memcmp(m + PG, want + PG, 100) == 0 && m[PG + 100] == 'X' && m[PG + 149] == 'X' && memcmp(m + PG + 150, want + PG + 150, PG - 150) == 0,
             "the modified page differs");
    fd = open("mapped", O_RDONLY);
    cf_check(fd >= 0 && pread(fd, got, sizeof got, 0) == (ssize_t)sizeof got && memcmp(got, want, sizeof got) == 0,
             "the file changed (the private modification reached it)");
    cf_pass();
}
