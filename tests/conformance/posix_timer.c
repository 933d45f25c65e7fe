/* A POSIX timer (CLOCK_MONOTONIC, SIGRTMIN+2 with value 77) armed for 100 s, then
 * every 10 s: same interval, at most 100 s left; made to expire, it sends its
 * signal with its value and id. */
#include "conf.h"

int main(void)
{
    int sig = SIGRTMIN + 2;
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    cf_sys(sigprocmask(SIG_BLOCK, &s, NULL));
    struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = sig, .sigev_value.sival_int = 77 };
    timer_t t;
    cf_sys(timer_create(CLOCK_MONOTONIC, &ev, &t));
    struct itimerspec it = { { 10, 0 }, { 100, 0 } };
    cf_sys(timer_settime(t, 0, &it, NULL));
    cf_ready();
    cf_wait();
    struct itimerspec g;
    cf_check(timer_gettime(t, &g) == 0, "timer_gettime: %s (the timer is gone)", strerror(errno));
    cf_check(g.it_interval.tv_sec == 10 && g.it_interval.tv_nsec == 0, "interval: expected 10 s, got %ld.%09ld", (long)g.it_interval.tv_sec,
             g.it_interval.tv_nsec);
    cf_check((g.it_value.tv_sec || g.it_value.tv_nsec) && g.it_value.tv_sec <= 100, "expected armed with at most 100 s left, got %ld.%09ld",
             (long)g.it_value.tv_sec, g.it_value.tv_nsec);
    struct itimerspec soon = { { 0, 0 }, { 0, 1000000 } };
    cf_sys(timer_settime(t, 0, &soon, NULL));
    siginfo_t si;
    struct timespec ts = { 5, 0 };
    cf_check(sigtimedwait(&s, &si, &ts) == sig, "the timer did not send SIGRTMIN+2 within 5 s");
    cf_check(si.si_code == SI_TIMER && si.si_value.sival_int == 77, "its signal: expected SI_TIMER value 77, got code %d value %d",
             si.si_code, si.si_value.sival_int);
    cf_check(si.si_timerid == (int)(intptr_t)t, "si_timerid: expected %d, got %d", (int)(intptr_t)t, si.si_timerid);
    cf_pass();
}
