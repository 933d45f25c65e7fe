/* An O_PATH|O_NOFOLLOW descriptor of a symbolic link: the link itself, whose
 * target readlinkat() still gives. */
#include "conf.h"
#include <sys/stat.h>

int main(void)
{
    cf_sys(symlink("some/where/else", "link"));
    int fd = open("link", O_PATH | O_NOFOLLOW);
    cf_sys(fd);
    struct stat a;
    cf_sys(fstatat(fd, "", &a, AT_EMPTY_PATH));
    cf_ready();
    cf_wait();
    struct stat b;
    cf_sys(fstatat(fd, "", &b, AT_EMPTY_PATH));
    cf_check(S_ISLNK(b.st_mode), "fstat: expected a symbolic link, got mode 0%o", (unsigned)b.st_mode);
    cf_check(a.st_ino == b.st_ino, "another link: inode %lu, expected %lu", (unsigned long)b.st_ino, (unsigned long)a.st_ino);
    char t[64] = "";
    ssize_t n = readlinkat(fd, "", t, sizeof t - 1);
    cf_check(n == 15 && memcmp(t, "some/where/else", 15) == 0, "readlinkat: expected 'some/where/else', got %zd '%s' (%s)", n, t,
             n < 0 ? strerror(errno) : "");
    int fl = fcntl(fd, F_GETFL);
    cf_check(fl >= 0 && (fl & O_PATH), "F_GETFL: expected O_PATH, got 0%o", fl);
    cf_pass();
}
