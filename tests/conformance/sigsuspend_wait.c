/* A process waiting in sigsuspend (SIGUSR1 and SIGUSR2 blocked, SIGUSR2 allowed
 * while it waits): it wakes once, for SIGUSR2 only, with its mask back. */
#include "conf.h"

static volatile sig_atomic_t got, timed_out;
static void on_usr2(int s) { (void)s; got++; }
static void on_alrm(int s) { (void)s; timed_out = 1; }

int main(void)
{
    struct sigaction a = { .sa_handler = on_usr2 }, b = { .sa_handler = on_alrm };
    cf_sys(sigaction(SIGUSR2, &a, NULL));
    cf_sys(sigaction(SIGALRM, &b, NULL));
    sigset_t s, during;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    cf_sys(sigprocmask(SIG_BLOCK, &s, NULL));
    cf_ready(); /* SIGUSR2 blocked from here on */
    sigprocmask(SIG_BLOCK, NULL, &during);
    sigdelset(&during, SIGUSR2);
    alarm(CF_WAIT_SECONDS);
    int returns = 0;
    while (!got && !timed_out) {
        sigsuspend(&during);
        returns++;
    }
    alarm(0);
    cf_check(!timed_out, "no SIGUSR2 within %d s", CF_WAIT_SECONDS);
    cf_check(got == 1, "the SIGUSR2 handler ran %d times", (int)got);
    cf_check(returns == 1, "sigsuspend returned %d times, expected once (for SIGUSR2)", returns);
    sigset_t now;
    cf_sys(sigprocmask(SIG_BLOCK, NULL, &now));
    cf_check(sigismember(&now, SIGUSR1) && sigismember(&now, SIGUSR2), "the mask after sigsuspend: expected SIGUSR1 and SIGUSR2 blocked");
    cf_pass();
}
