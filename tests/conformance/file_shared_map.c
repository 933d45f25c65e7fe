/* A file mapped MAP_SHARED and written through the mapping: still the file's
 * pages (writes afterwards reach the file). */
#include "conf.h"
#include <sys/mman.h>

int main(void)
{
    int fd = open("shared-map", O_RDWR | O_CREAT | O_TRUNC, 0600);
    cf_sys(fd);
    cf_sys(ftruncate(fd, 8192));
    char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    cf_check(m != MAP_FAILED, "mmap: %s", strerror(errno));
    memcpy(m + 10, "before", 6);
    cf_ready();
    cf_wait();
    char buf[8] = "";
    cf_check(pread(fd, buf, 6, 10) == 6 && memcmp(buf, "before", 6) == 0, "the file: expected 'before' at 10, got '%s'", buf);
    cf_check(memcmp(m + 10, "before", 6) == 0, "the mapping: expected 'before' at 10");
    memcpy(m + 5000, "after", 5);
    cf_sys(msync(m, 8192, MS_SYNC));
    cf_check(pread(fd, buf, 5, 5000) == 5 && memcmp(buf, "after", 5) == 0, "a write through the mapping afterwards does not reach the file");
    cf_sys(pwrite(fd, "file", 4, 6000));
    cf_check(memcmp(m + 6000, "file", 4) == 0, "a write to the file afterwards does not show in the mapping");
    cf_pass();
}
