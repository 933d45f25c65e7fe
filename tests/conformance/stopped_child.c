/* A child stopped with SIGSTOP, its stop taken with waitid() and its SIGCHLD (blocked)
 * with sigtimedwait(): still stopped afterwards (state T), no stop reported again, no
 * SIGCHLD pending, and it goes on when continued. */
#include "conf.h"

static pid_t host_pid(int pidfd) /* the child's pid as /proc sees it */
{
    char info[64];
    snprintf(info, sizeof info, "/proc/self/fdinfo/%d", pidfd);
    return (pid_t)atoi(cf_proc_field(info, "Pid:"));
}

static char state_of(pid_t p)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)p);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return '?';
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return '?';
    buf[n] = 0;
    char *q = strrchr(buf, ')');
    return q && q[1] ? q[2] : '?';
}

int main(void)
{
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    cf_sys(sigprocmask(SIG_BLOCK, &chld, NULL));
    pid_t c = cf_fork_sleeper();
    cf_sys(kill(c, SIGSTOP));
    siginfo_t si;
    cf_sys(waitid(P_PID, c, &si, WSTOPPED));
    struct timespec z = { 5, 0 };
    cf_check(sigtimedwait(&chld, &si, &z) == SIGCHLD && si.si_code == CLD_STOPPED, "no SIGCHLD for the stop");
    cf_ready();
    cf_wait();
    int pfd = (int)syscall(SYS_pidfd_open, c, 0);
    cf_check(pfd >= 0, "pidfd_open of the child %d: %s", (int)c, strerror(errno));
    char st = state_of(host_pid(pfd));
    cf_check(st == 'T', "the stopped child: expected state T, got %c", st);
    memset(&si, 0, sizeof si);
    cf_sys(waitid(P_PID, c, &si, WSTOPPED | WCONTINUED | WNOHANG));
    cf_check(si.si_pid == 0, "waitid reports the child again (code %d), its stop was taken before", si.si_code);
    sigset_t p;
    cf_sys(sigpending(&p));
    cf_check(!sigismember(&p, SIGCHLD), "a SIGCHLD is pending, the stop's was taken before");
    cf_sys(kill(c, SIGCONT));
    memset(&si, 0, sizeof si);
    for (double end = cf_now() + 10; si.si_pid == 0 && cf_now() < end;) {
        cf_sys(waitid(P_PID, c, &si, WCONTINUED | WNOHANG));
        if (si.si_pid == 0)
            nanosleep(&(struct timespec){ 0, 5000000 }, NULL);
    }
    cf_check(si.si_pid == c && si.si_code == CLD_CONTINUED, "no CLD_CONTINUED from the child within 10 s (code %d)", si.si_code);
    kill(c, SIGKILL);
    cf_waitpid(c, 10, "the child");
    cf_pass();
}
