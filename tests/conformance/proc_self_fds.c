/* Files of /proc/self open: /proc/self/status read afterwards describes the process
 * itself, and an fd of /proc/self/fd lists its descriptors. */
#include "conf.h"
#include <dirent.h>

int main(void)
{
    int st = open("/proc/self/status", O_RDONLY);
    cf_sys(st);
    int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY);
    cf_sys(dir);
    cf_ready();
    cf_wait();
    char buf[8192];
    ssize_t n = pread(st, buf, sizeof buf - 1, 0);
    cf_check(n > 0, "reading /proc/self/status through its fd: %s", n < 0 ? strerror(errno) : "empty");
    buf[n] = 0;
    char want[64];
    snprintf(want, sizeof want, "\nPid:\t%d\n", (int)getpid());
    char *p = strstr(buf, "\nPid:");
    cf_check(strstr(buf, want) != NULL, "the fd of /proc/self/status: expected Pid %d, got '%.16s'", (int)getpid(), p ? p + 1 : "?");
    int dup3fd = dup(dir);
    DIR *d = fdopendir(dup3fd);
    cf_check(d != NULL, "fdopendir: %s", strerror(errno));
    rewinddir(d);
    int found = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (atoi(e->d_name) == st)
            found = 1;
    cf_check(found, "the fd of /proc/self/fd does not list fd %d", st);
    cf_pass();
}
