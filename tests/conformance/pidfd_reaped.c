/* A pidfd of a child that has ended and was reaped: it stays a pidfd of a process that
 * is gone (fdinfo Pid -1, readable, a signal through it says ESRCH). */
#include "conf.h"
#include <poll.h>

int main(void)
{
    pid_t c = fork();
    cf_sys(c);
    if (c == 0)
        _exit(0);
    int fd = (int)syscall(SYS_pidfd_open, c, 0);
    cf_sys(fd);
    cf_waitpid(c, 10, "the child");
    cf_ready();
    cf_wait();
    char info[64];
    snprintf(info, sizeof info, "/proc/self/fdinfo/%d", fd);
    const char *pid = cf_proc_field(info, "Pid:");
    cf_check(!strcmp(pid, "-1"), "fdinfo Pid: expected -1 (a process that is gone), got '%s'", pid);
    struct pollfd pf = { fd, POLLIN, 0 };
    cf_check(poll(&pf, 1, 0) == 1 && (pf.revents & POLLIN), "the pidfd does not poll readable");
    cf_check(syscall(SYS_pidfd_send_signal, fd, SIGTERM, NULL, 0) < 0 && errno == ESRCH,
             "pidfd_send_signal: expected ESRCH, got %s", strerror(errno));
    cf_pass();
}
