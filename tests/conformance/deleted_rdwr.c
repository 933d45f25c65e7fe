/* A file open read-write and deleted: its contents, offset, mode; still writable. */
#include "conf.h"
#include <sys/stat.h>

int main(void)
{
    int fd = open("soon-gone", O_RDWR | O_CREAT | O_TRUNC, 0640);
    cf_sys(fd);
    static char want[30000], got[30000];
    cf_fill(want, sizeof want, 29);
    cf_write_all(fd, want, sizeof want);
    cf_sys(lseek(fd, 1000, SEEK_SET));
    cf_sys(unlink("soon-gone"));
    cf_ready();
    cf_wait();
    struct stat st;
    cf_sys(fstat(fd, &st));
    cf_check(st.st_size == (off_t)sizeof want && (st.st_mode & 0777) == 0640 && st.st_nlink == 0,
             "expected size %zu mode 0640 no links, got size %lld mode %03o links %lu", sizeof want, (long long)st.st_size,
             (unsigned)(st.st_mode & 0777), (unsigned long)st.st_nlink);
    cf_check(lseek(fd, 0, SEEK_CUR) == 1000, "offset: expected 1000, got %lld", (long long)lseek(fd, 0, SEEK_CUR));
    cf_check(pread(fd, got, sizeof got, 0) == (ssize_t)sizeof got && !memcmp(got, want, sizeof got), "contents differ");
    cf_check(access("soon-gone", F_OK) < 0, "the deleted name is back");
    cf_write_all(fd, "more", 4);
    cf_pass();
}
