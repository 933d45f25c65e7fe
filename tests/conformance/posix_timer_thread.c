/* A POSIX timer notifying by thread (SIGEV_THREAD) every 20 ms: it keeps calling
 * its function afterwards, and a second such timer made afterwards calls its own
 * (glibc sends both through its helper thread). */
#include "conf.h"
#include <stdatomic.h>

static atomic_int calls, later_calls;
static void tick(union sigval v) { (void)v; atomic_fetch_add(&calls, 1); }
static void tick_later(union sigval v) { (void)v; atomic_fetch_add(&later_calls, 1); }

int main(void)
{
    cf_block_usr2(); /* before the timer's threads */
    struct sigevent ev = { .sigev_notify = SIGEV_THREAD, .sigev_notify_function = tick };
    timer_t t;
    cf_sys(timer_create(CLOCK_MONOTONIC, &ev, &t));
    struct itimerspec it = { { 0, 20000000 }, { 0, 20000000 } };
    cf_sys(timer_settime(t, 0, &it, NULL));
    for (double end = cf_now() + 10; atomic_load(&calls) < 2 && cf_now() < end;)
        nanosleep(&(struct timespec){ 0, 5000000 }, NULL);
    cf_check(atomic_load(&calls) >= 2, "the timer's thread was not called before the checkpoint");
    cf_ready();
    cf_wait();
    struct itimerspec g;
    cf_check(timer_gettime(t, &g) == 0, "timer_gettime: %s", strerror(errno));
    cf_check(g.it_interval.tv_sec == 0 && g.it_interval.tv_nsec == 20000000, "interval: expected 20 ms, got %ld.%09ld",
             (long)g.it_interval.tv_sec, g.it_interval.tv_nsec);
    int before = atomic_load(&calls);
    for (double end = cf_now() + 10; atomic_load(&calls) < before + 3 && cf_now() < end;)
        nanosleep(&(struct timespec){ 0, 5000000 }, NULL);
    cf_check(atomic_load(&calls) >= before + 3, "the timer's function was called %d times in 10 s afterwards, expected 3 or more",
             atomic_load(&calls) - before);
    struct sigevent ev2 = { .sigev_notify = SIGEV_THREAD, .sigev_notify_function = tick_later };
    timer_t t2;
    cf_sys(timer_create(CLOCK_MONOTONIC, &ev2, &t2));
    cf_sys(timer_settime(t2, 0, &it, NULL));
    for (double end = cf_now() + 10; atomic_load(&later_calls) < 3 && cf_now() < end;)
        nanosleep(&(struct timespec){ 0, 5000000 }, NULL);
    cf_check(atomic_load(&later_calls) >= 3, "a SIGEV_THREAD timer made afterwards called its function %d times in 10 s, "
             "expected 3 or more", atomic_load(&later_calls));
    cf_pass();
}
