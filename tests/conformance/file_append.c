/* A file open O_APPEND|O_RDWR, its offset moved back to 0: writes still go to the
 * end. */
#include "conf.h"
#include <sys/stat.h>

int main(void)
{
    int fd = open("log", O_RDWR | O_CREAT | O_TRUNC | O_APPEND, 0600);
    cf_sys(fd);
    cf_write_all(fd, "first;", 6);
    cf_sys(lseek(fd, 0, SEEK_SET));
    cf_ready();
    cf_wait();
    int fl = fcntl(fd, F_GETFL);
    cf_check((fl & O_APPEND) && (fl & O_ACCMODE) == O_RDWR, "flags: expected O_RDWR|O_APPEND, got 0%o", fl);
    cf_check(lseek(fd, 0, SEEK_CUR) == 0, "offset: expected 0, got %lld", (long long)lseek(fd, 0, SEEK_CUR));
    cf_write_all(fd, "second;", 7);
    char buf[32] = "";
    cf_check(pread(fd, buf, sizeof buf, 0) == 13 && memcmp(buf, "first;second;", 13) == 0,
             "contents: expected 'first;second;', got '%s'", buf);
    cf_pass();
}
