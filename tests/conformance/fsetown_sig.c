/* A pipe set O_ASYNC with F_SETOWN (the process itself) and F_SETSIG (SIGRTMIN+3):
 * data arriving afterwards raises SIGRTMIN+3 with si_fd. */
#include "conf.h"

int main(void)
{
    int p[2];
    cf_sys(pipe(p));
    int sig = SIGRTMIN + 3;
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    cf_sys(sigprocmask(SIG_BLOCK, &s, NULL));
    cf_sys(fcntl(p[0], F_SETOWN, getpid()));
    cf_sys(fcntl(p[0], F_SETSIG, sig));
    cf_sys(fcntl(p[0], F_SETFL, O_ASYNC | O_NONBLOCK));
    cf_ready();
    cf_wait();
    int own = fcntl(p[0], F_GETOWN);
    cf_check(own == getpid(), "F_GETOWN: expected %d (the process), got %d", (int)getpid(), own);
    cf_check(fcntl(p[0], F_GETSIG) == sig, "F_GETSIG: expected %d, got %d", sig, fcntl(p[0], F_GETSIG));
    cf_check(fcntl(p[0], F_GETFL) & O_ASYNC, "O_ASYNC: expected set, got flags 0%o", fcntl(p[0], F_GETFL));
    cf_write_all(p[1], "!", 1);
    siginfo_t si;
    struct timespec ts = { 5, 0 };
    int got = sigtimedwait(&s, &si, &ts);
    cf_check(got == sig, "no SIGRTMIN+3 when data arrived (%s)", strerror(errno));
    cf_check(si.si_fd == p[0], "si_fd: expected %d, got %d", p[0], si.si_fd);
    cf_pass();
}
