/* A timerfd ticking every 30 ms and a signalfd taking SIGUSR1, in a poll loop: after
 * a restart the timer must go on firing and the signalfd must still take the signal,
 * or the loop waits forever. */
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

int main(void)
{
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR1);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    int sfd = signalfd(-1, &mask, 0);
    int tfd = timerfd_create(CLOCK_MONOTONIC, 0);
    struct itimerspec it = { { 0, 30 * 1000000L }, { 0, 30 * 1000000L } };
    timerfd_settime(tfd, 0, &it, NULL);
    for (int tick = 1; tick <= 60;) {
        struct pollfd p = { tfd, POLLIN, 0 };
        if (poll(&p, 1, -1) != 1)
            continue;
        uint64_t expirations;
        if (read(tfd, &expirations, sizeof expirations) != sizeof expirations)
            continue;
        printf("tick %d\n", tick);
        if (tick % 10 == 0) {
            raise(SIGUSR1);
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof si) == sizeof si)
                printf("signal %u through the signalfd\n", si.ssi_signo);
        }
        fflush(stdout);
        tick++;
    }
    return 0;
}
