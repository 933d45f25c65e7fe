/* A child that exited with 42 and is not reaped yet: still a zombie afterwards,
 * reaped with its status. */
#include "conf.h"

int main(void)
{
    pid_t c = fork();
    cf_sys(c);
    if (c == 0)
        _exit(42);
    siginfo_t si;
    cf_sys(waitid(P_PID, c, &si, WEXITED | WNOWAIT)); /* it is a zombie now; left so */
    cf_ready();
    cf_wait();
    int st;
    pid_t r = waitpid(c, &st, WNOHANG);
    cf_check(r == c, "waitpid of the zombie %d: expected it, got %d (%s)", (int)c, (int)r, r < 0 ? strerror(errno) : "not exited");
    cf_check(WIFEXITED(st) && WEXITSTATUS(st) == 42, "its status: expected exit 42, got 0x%x", st);
    cf_pass();
}
