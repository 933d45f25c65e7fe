/* ITIMER_REAL running (100 s, then every 40 s) with a SIGALRM handler: the same
 * interval, no more than 100 s left; set to fire at once, the handler runs. */
#include "conf.h"
#include <sys/time.h>

#ifndef WHICH
#define WHICH ITIMER_REAL
#define WHICH_NAME "ITIMER_REAL"
#define SIG SIGALRM
#endif

static volatile sig_atomic_t fired;
static void on_sig(int s) { (void)s; fired++; }

int main(void)
{
    struct sigaction sa = { .sa_handler = on_sig };
    cf_sys(sigaction(SIG, &sa, NULL));
    struct itimerval it = { { 40, 0 }, { 100, 0 } };
    cf_sys(setitimer(WHICH, &it, NULL));
    cf_ready();
    cf_wait();
    struct itimerval g;
    cf_sys(getitimer(WHICH, &g));
    cf_check(g.it_interval.tv_sec == 40 && g.it_interval.tv_usec == 0, WHICH_NAME " interval: expected 40 s, got %ld.%06ld",
             (long)g.it_interval.tv_sec, (long)g.it_interval.tv_usec);
    cf_check((g.it_value.tv_sec || g.it_value.tv_usec) && g.it_value.tv_sec <= 100, WHICH_NAME ": expected running, at most 100 s left, got %ld.%06ld",
             (long)g.it_value.tv_sec, (long)g.it_value.tv_usec);
    cf_check(fired == 0, WHICH_NAME ": fired %d times already", (int)fired);
    struct itimerval soon = { { 0, 0 }, { 0, 1000 } };
    cf_sys(setitimer(WHICH, &soon, NULL));
    for (double end = cf_now() + 10; !fired && cf_now() < end;) /* the CPU timers need CPU time: spin */
        if (WHICH == ITIMER_REAL) {
            struct timespec ts = { 0, 1000000 };
            nanosleep(&ts, NULL);
        }
    cf_check(fired == 1, WHICH_NAME " set to 1 ms: the handler ran %d times in 10 s", (int)fired);
    cf_pass();
}
