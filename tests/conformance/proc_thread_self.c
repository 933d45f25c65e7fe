/* The main thread's own /proc directory open (/proc/thread-self): after a restart it
 * still describes the main thread, whose number changed with the process's. */
#include "conf.h"

int main(void)
{
    int st = open("/proc/thread-self/status", O_RDONLY);
    cf_sys(st);
    cf_ready();
    cf_wait();
    char buf[8192], want[64];
    ssize_t n = pread(st, buf, sizeof buf - 1, 0);
    cf_check(n > 0, "reading /proc/thread-self/status through its fd: %s", n < 0 ? strerror(errno) : "empty");
    buf[n] = 0;
    snprintf(want, sizeof want, "\nPid:\t%d\n", (int)syscall(SYS_gettid));
    char *p = strstr(buf, "\nPid:");
    cf_check(strstr(buf, want) != NULL, "expected the main thread %d, got '%.16s'", (int)syscall(SYS_gettid),
             p ? p + 1 : "?");
    cf_pass();
}
