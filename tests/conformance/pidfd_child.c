/* A pidfd of a running child: it still refers to that child (fdinfo Pid, a signal
 * sent through it ends the child, it polls readable once the child has exited). */
#include "conf.h"
#include <poll.h>

static int pidfd_open_(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }
static int pidfd_send_signal_(int fd, int sig) { return (int)syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0); }

int main(void)
{
    pid_t c = cf_fork_sleeper();
    int fd = pidfd_open_(c);
    cf_sys(fd);
    cf_ready();
    cf_wait();
    char info[64];
    snprintf(info, sizeof info, "/proc/self/fdinfo/%d", fd);
    const char *p = cf_proc_field(info, "NSpid:"), *last = strrchr(p, '\t') ? strrchr(p, '\t') + 1 : p;
    cf_check(atoi(last) == c, "fdinfo NSpid (the pid in our namespace last): expected %d, got '%s'", (int)c, p);
    struct pollfd pf = { fd, POLLIN, 0 };
    cf_check(poll(&pf, 1, 0) == 0, "the pidfd polls readable while the child runs");
    cf_check(pidfd_send_signal_(fd, SIGTERM) == 0, "pidfd_send_signal: %s", strerror(errno));
    int st = cf_waitpid(c, 10, "the child signalled through the pidfd");
    cf_check(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM, "the child: expected killed by SIGTERM, got status 0x%x", st);
    cf_pass();
}
