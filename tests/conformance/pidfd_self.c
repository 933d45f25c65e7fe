/* A pidfd of the process itself: still its own (fdinfo NSpid), not one of the pid it
 * had before a restart, and open non-blocking as it was. */
#include "conf.h"

int main(void)
{
    int fd = (int)syscall(SYS_pidfd_open, getpid(), O_NONBLOCK);
    cf_sys(fd);
    cf_ready();
    cf_wait();
    char info[64];
    snprintf(info, sizeof info, "/proc/self/fdinfo/%d", fd);
    const char *p = cf_proc_field(info, "NSpid:"), *last = strrchr(p, '\t') ? strrchr(p, '\t') + 1 : p;
    cf_check(atoi(last) == getpid(), "fdinfo NSpid (the pid in our namespace last): expected %d, got '%s'",
             (int)getpid(), p);
    cf_check(fcntl(fd, F_GETFL) & O_NONBLOCK, "O_NONBLOCK: expected set, got flags 0%o", fcntl(fd, F_GETFL));
    cf_pass();
}
