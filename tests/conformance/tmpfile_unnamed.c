/* A file made with O_TMPFILE (never had a name), with data: its contents, size,
 * offset and mode. */
#include "conf.h"
#include <sys/stat.h>

int main(void)
{
    int fd = open(".", O_TMPFILE | O_RDWR, 0640);
    cf_sys(fd);
    static char want[50000], got[50000];
    cf_fill(want, sizeof want, 23);
    cf_write_all(fd, want, sizeof want);
    cf_sys(lseek(fd, 333, SEEK_SET));
    cf_ready();
    cf_wait();
    struct stat st;
    cf_sys(fstat(fd, &st));
    cf_check(st.st_size == (off_t)sizeof want && (st.st_mode & 0777) == 0640 && st.st_nlink == 0,
             "expected size %zu mode 0640 no links, got size %lld mode %03o links %lu", sizeof want, (long long)st.st_size,
             (unsigned)(st.st_mode & 0777), (unsigned long)st.st_nlink);
    cf_check(lseek(fd, 0, SEEK_CUR) == 333, "offset: expected 333, got %lld", (long long)lseek(fd, 0, SEEK_CUR));
    cf_check(pread(fd, got, sizeof got, 0) == (ssize_t)sizeof got && !memcmp(got, want, sizeof got), "contents differ");
    cf_pass();
}
