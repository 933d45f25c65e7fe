/* A blocked-signal mask of several signals (SIGHUP, SIGINT, SIGTERM, SIGWINCH,
 * SIGRTMIN+6, SIGRTMAX): exactly the same afterwards. */
#include "conf.h"

int main(void)
{
    sigset_t s, want;
    sigemptyset(&s);
    int sigs[] = { SIGHUP, SIGINT, SIGTERM, SIGWINCH, SIGRTMIN + 6, SIGRTMAX };
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaddset(&s, sigs[i]);
    cf_sys(sigprocmask(SIG_BLOCK, &s, NULL));
    cf_ready(); /* blocks SIGUSR2 too */
    cf_sys(sigprocmask(SIG_BLOCK, NULL, &want));
    cf_wait();
    sigset_t got;
    cf_sys(sigprocmask(SIG_BLOCK, NULL, &got));
    for (int i = 1; i <= SIGRTMAX; i++)
        cf_check(sigismember(&want, i) == sigismember(&got, i), "signal %d: expected %s, got %s", i,
                 sigismember(&want, i) ? "blocked" : "not blocked", sigismember(&got, i) ? "blocked" : "not blocked");
    cf_pass();
}
