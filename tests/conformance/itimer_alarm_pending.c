/* SIGALRM from alarm() pending (blocked) when the checkpoint comes, and a second
 * alarm armed for 500 s: after the restart the pending one is delivered when
 * unblocked, and alarm(0) says about 500 s were left. */
#include "conf.h"
#include <sys/time.h>

static volatile int alarms;
static void on_alarm(int sig) { (void)sig; alarms++; }

int main(void)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGALRM);
    cf_sys(sigprocmask(SIG_BLOCK, &s, NULL));
    signal(SIGALRM, on_alarm);
    struct itimerval it = { { 0, 0 }, { 0, 1000 } }; /* SIGALRM in 1 ms */
    cf_sys(setitimer(ITIMER_REAL, &it, NULL));
    sigset_t p;
    double end = cf_now() + 5;
    do
        sigpending(&p);
    while (!sigismember(&p, SIGALRM) && cf_now() < end);
    cf_check(sigismember(&p, SIGALRM), "SIGALRM did not become pending");
    alarm(500);
    cf_ready();
    cf_wait();
    unsigned left = alarm(0);
    cf_check(left > 400 && left <= 500, "alarm: expected about 500 s left, got %u", left);
    sigpending(&p);
    cf_check(sigismember(&p, SIGALRM), "the pending SIGALRM was lost");
    cf_sys(sigprocmask(SIG_UNBLOCK, &s, NULL));
    cf_check(alarms == 1, "SIGALRM delivered %d times after unblocking, expected once", alarms);
    cf_pass();
}
