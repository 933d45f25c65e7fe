/* /proc/self/exe names the program itself (not cr_restart, not the runtime). */
#include "conf.h"
#include <limits.h>
#include <sys/stat.h>

int main(void)
{
    char want[PATH_MAX], got[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", want, sizeof want - 1);
    cf_sys(n);
    want[n] = 0;
    struct stat a, b;
    cf_sys(stat("/proc/self/exe", &a));
    cf_ready();
    cf_wait();
    n = readlink("/proc/self/exe", got, sizeof got - 1);
    cf_sys(n);
    got[n] = 0;
    cf_check(strcmp(want, got) == 0, "/proc/self/exe: expected '%s', got '%s'", want, got);
    cf_sys(stat("/proc/self/exe", &b));
    cf_check(a.st_ino == b.st_ino && a.st_dev == b.st_dev, "/proc/self/exe is another file (inode %lu, expected %lu)",
             (unsigned long)b.st_ino, (unsigned long)a.st_ino);
    cf_pass();
}
