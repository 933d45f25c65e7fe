/* An O_PATH descriptor of a regular file: still O_PATH, on the same file, not
 * readable. */
#include "conf.h"
#include <sys/stat.h>

int main(void)
{
    int w = open("target", O_WRONLY | O_CREAT | O_TRUNC, 0640);
    cf_sys(w);
    cf_write_all(w, "contents", 8);
    close(w);
    int fd = open("target", O_PATH);
    cf_sys(fd);
    struct stat a;
    cf_sys(fstat(fd, &a));
    cf_ready();
    cf_wait();
    int fl = fcntl(fd, F_GETFL);
    cf_check(fl >= 0 && (fl & O_PATH), "F_GETFL: expected O_PATH, got 0%o", fl);
    struct stat b;
    cf_sys(fstat(fd, &b));
    cf_check(a.st_ino == b.st_ino && a.st_dev == b.st_dev && b.st_size == 8, "fstat: another file (inode %lu size %lld, expected %lu size 8)",
             (unsigned long)b.st_ino, (long long)b.st_size, (unsigned long)a.st_ino);
    char c;
    cf_check(read(fd, &c, 1) < 0 && errno == EBADF, "read on O_PATH: expected EBADF, got %s", strerror(errno));
    cf_pass();
}
