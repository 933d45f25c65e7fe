/* An open file with holes at its head and tail (1 GiB long, 8 KiB of data in the
 * middle), deleted: after the restart its size, data and holes (SEEK_DATA) are the
 * same, and the checkpoint did not need its whole length. */
#include "conf.h"
#include <sys/stat.h>

#define SIZE (1LL << 30)
#define AT (SIZE / 2)

int main(void)
{
    int fd = open("holes.del", O_CREAT | O_RDWR | O_TRUNC, 0600);
    cf_sys(fd);
    char data[8192];
    cf_fill(data, sizeof data, 5);
    cf_check(pwrite(fd, data, sizeof data, AT) == sizeof data, "pwrite: %s", strerror(errno));
    cf_sys(ftruncate(fd, SIZE));
    cf_sys(unlink("holes.del"));
    cf_sys((int)lseek(fd, 100, SEEK_SET));
    cf_ready();
    cf_wait();
    struct stat st;
    cf_sys(fstat(fd, &st));
    cf_check(st.st_size == SIZE, "size: expected %lld, got %lld", SIZE, (long long)st.st_size);
    cf_check(lseek(fd, 0, SEEK_CUR) == 100, "offset: expected 100");
    off_t d = lseek(fd, 0, SEEK_DATA);
    cf_check(d >= AT - 4096 && d <= AT, "the head hole is gone: data at %lld, expected %lld", (long long)d, AT);
    char got[8192];
    cf_check(pread(fd, got, sizeof got, AT) == sizeof got && !memcmp(got, data, sizeof got), "the data is wrong");
    cf_check(st.st_blocks * 512 < 64 * 1024 * 1024, "the holes were filled: %lld bytes used",
             (long long)st.st_blocks * 512);
    cf_pass();
}
