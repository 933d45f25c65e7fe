/* The working directory, a subdirectory with a space in its name. */
#include "conf.h"
#include <limits.h>
#include <sys/stat.h>

int main(void)
{
    char want[PATH_MAX], got[PATH_MAX];
    struct stat a, b;
    cf_sys(mkdir("a dir", 0755));
    cf_sys(mkdir("a dir/sub", 0755));
    cf_sys(chdir("a dir/sub"));
    cf_check(getcwd(want, sizeof want) != NULL, "getcwd: %s", strerror(errno));
    cf_sys(stat(".", &a));
    cf_ready();
    cf_wait();
    cf_check(getcwd(got, sizeof got) != NULL, "getcwd after: %s", strerror(errno));
    cf_check(strcmp(want, got) == 0, "cwd: expected '%s', got '%s'", want, got);
    cf_sys(stat(".", &b));
    cf_check(a.st_ino == b.st_ino && a.st_dev == b.st_dev, "'.' is another directory: inode %lu, expected %lu",
             (unsigned long)b.st_ino, (unsigned long)a.st_ino);
    ssize_t n = readlink("/proc/self/cwd", got, sizeof got - 1);
    cf_sys(n);
    got[n] = 0;
    cf_check(strcmp(want, got) == 0, "/proc/self/cwd: expected '%s', got '%s'", want, got);
    cf_pass();
}
