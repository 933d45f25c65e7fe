/* Critical sections under fire: four threads loop over cr_enter_cs (one with
 * cr_tryenter_cs) and update two counters that are equal only outside the section;
 * callbacks in both contexts check, at every checkpoint, that no thread was caught
 * inside.  usage: cs_stress SECONDS; SIGUSR1 ends it sooner. */
#define _GNU_SOURCE
#include <libcr.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile long c1, c2;
static int violations, checkpoints, restarts, stop;
static volatile sig_atomic_t told_to_end;

static void on_usr1(int sig)
{
    (void)sig;
    told_to_end = 1;
}

static int tc_cb(void *arg)
{
    (void)arg;
    if (c1 != c2)
        __atomic_add_fetch(&violations, 1, __ATOMIC_ACQ_REL);
    int rc = cr_checkpoint(0);
    __atomic_add_fetch(rc > 0 ? &restarts : &checkpoints, 1, __ATOMIC_ACQ_REL);
    return 0;
}

static int sc_cb(void *arg)
{
    (void)arg;
    if (c1 != c2)
        __atomic_add_fetch(&violations, 1, __ATOMIC_ACQ_REL);
    cr_checkpoint(0);
    return 0;
}

static void *loop(void *arg)
{
    int use_try = (int)(long)arg == 3;
    cr_client_id_t id = cr_init();
    cr_register_callback(sc_cb, NULL, CR_SIGNAL_CONTEXT);
    while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
        if (use_try) {
            if (cr_tryenter_cs(id) > 0) {
                sched_yield();
                continue;
            }
        } else {
            cr_enter_cs(id);
        }
        __atomic_add_fetch(&c1, 1, __ATOMIC_ACQ_REL);
        for (volatile int i = 0; i < 2000; i++)
            ;
        if (cr_enter_cs(id) == 0) /* nested */
            cr_leave_cs(id);
        __atomic_add_fetch(&c2, 1, __ATOMIC_ACQ_REL);
        cr_leave_cs(id);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int secs = argc > 1 ? atoi(argv[1]) : 30;
    signal(SIGUSR1, on_usr1);
    cr_init();
    cr_register_callback(tc_cb, NULL, CR_THREAD_CONTEXT);
    pthread_t th[4];
    for (long i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, loop, (void *)i);
    printf("ready\n");
    fflush(stdout);
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    do {
        struct timespec ts = { 0, 50 * 1000000L };
        nanosleep(&ts, NULL);
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (!told_to_end && now.tv_sec - start.tv_sec < secs);
    __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    printf("checkpoints %d restarts %d violations %d counters %s\n", checkpoints, restarts, violations,
           c1 == c2 ? "equal" : "DIFFER");
    return violations != 0;
}
