/* A file mapped shared and its fd closed, then deleted: after the restart the mapping
 * has the data and writes through it still reach the same (deleted) file, seen by a
 * second mapping of it. */
#include "conf.h"
#include <sys/mman.h>

int main(void)
{
    int fd = open("mapped.del", O_CREAT | O_RDWR | O_TRUNC, 0600);
    cf_sys(fd);
    cf_sys(ftruncate(fd, 3 * 4096));
    char *a = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    char *b = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 4096);
    cf_check(a != MAP_FAILED && b != MAP_FAILED, "mmap: %s", strerror(errno));
    close(fd);
    cf_sys(unlink("mapped.del"));
    cf_fill(a, 3 * 4096, 11);
    uint64_t sum = cf_sum(a, 3 * 4096);
    cf_ready();
    cf_wait();
    cf_check(cf_sum(a, 3 * 4096) == sum, "the mapping of the deleted file lost its data");
    a[4096 + 10] = 'Z';
    cf_check(b[10] == 'Z', "the two mappings no longer share the deleted file");
    cf_pass();
}
