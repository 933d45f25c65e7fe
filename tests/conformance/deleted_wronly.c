/* A file open write-only and deleted: mode 0604, size 3 MiB + 5 with a hole in the
 * middle, its contents, offset and access mode. */
#include "conf.h"
#include <sys/stat.h>

#define HOLE_END (3 << 20)

int main(void)
{
    static char a[8192], b[5];
    int fd = open("doomed", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    cf_sys(fd);
    cf_fill(a, sizeof a, 3);
    cf_write_all(fd, a, sizeof a);
    cf_sys(lseek(fd, HOLE_END, SEEK_SET));
    cf_write_all(fd, "tail!", 5);
    cf_sys(lseek(fd, 100, SEEK_SET));
    cf_sys(fchmod(fd, 0604));
    cf_sys(unlink("doomed"));
    struct stat st0;
    cf_sys(fstat(fd, &st0));
    cf_ready();
    cf_wait();
    struct stat st;
    cf_sys(fstat(fd, &st));
    cf_check((st.st_mode & 07777) == 0604, "mode: expected 0604, got %04o", (unsigned)(st.st_mode & 07777));
    cf_check(st.st_size == HOLE_END + 5, "size: expected %d, got %lld", HOLE_END + 5, (long long)st.st_size);
    cf_check(st.st_nlink == 0, "links: expected 0 (deleted), got %lu", (unsigned long)st.st_nlink);
    cf_check(st.st_blocks <= st0.st_blocks + 64, "holes: expected about %lld blocks, got %lld (the hole was filled)",
             (long long)st0.st_blocks, (long long)st.st_blocks);
    cf_check((fcntl(fd, F_GETFL) & O_ACCMODE) == O_WRONLY, "access mode: expected O_WRONLY, got 0%o", fcntl(fd, F_GETFL) & O_ACCMODE);
    cf_check(lseek(fd, 0, SEEK_CUR) == 100, "offset: expected 100, got %lld", (long long)lseek(fd, 0, SEEK_CUR));
    off_t data = lseek(fd, sizeof a, SEEK_DATA);
    cf_check(data >= HOLE_END - 4096, "SEEK_DATA after the first 8 KiB: expected the hole up to about %d, got %lld", HOLE_END,
             (long long)data);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    int r = open(path, O_RDONLY);
    cf_check(r >= 0, "reopen through %s: %s", path, strerror(errno));
    static char got[8192];
    cf_check(pread(r, got, sizeof got, 0) == (ssize_t)sizeof got && memcmp(got, a, sizeof a) == 0, "the first 8 KiB differ");
    cf_check(pread(r, got, 4096, 1 << 20) == 4096 && cf_sum(got, 4096) == cf_sum(memset(a, 0, 4096), 4096), "the hole is not zeros");
    cf_check(pread(r, b, 5, HOLE_END) == 5 && memcmp(b, "tail!", 5) == 0, "the last 5 bytes: expected 'tail!', got '%.5s'", b);
    cf_pass();
}
