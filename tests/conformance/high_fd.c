/* Descriptors at high numbers (900, 1000 with RLIMIT_NOFILE raised to 1024+),
 * the low one closed. */
#include "conf.h"
#include <sys/resource.h>
#include <sys/stat.h>

int main(void)
{
    int fd = open("high", O_RDWR | O_CREAT | O_TRUNC, 0600);
    cf_sys(fd);
    cf_write_all(fd, "high fds", 8);
    cf_sys(dup2(fd, 900));
    cf_sys(lseek(fd, 5, SEEK_SET));
    close(fd);
    struct stat a;
    cf_sys(fstat(900, &a));
    cf_ready();
    cf_wait();
    struct stat b;
    cf_check(fstat(900, &b) == 0, "fd 900: %s", strerror(errno));
    cf_check(a.st_ino == b.st_ino, "fd 900 is another file");
    cf_check(lseek(900, 0, SEEK_CUR) == 5, "fd 900 offset: expected 5, got %lld", (long long)lseek(900, 0, SEEK_CUR));
    cf_check(fcntl(fd, F_GETFD) < 0 && errno == EBADF, "fd %d: expected closed, got open", fd);
    char buf[4] = "";
    cf_check(read(900, buf, 3) == 3 && memcmp(buf, "fds", 3) == 0, "reading fd 900: expected 'fds', got '%s'", buf);
    cf_pass();
}
