/* POSIX timers: one signalling the process (SIGUSR2, every 20 ms) and one aimed at a
 * worker thread (SIGRTMIN+1, every 30 ms), created after a third one was deleted so
 * that their ids are not 0 and 1.  Each tick is counted; main prints the counts until
 * both reach their goal, checking each time that the timers still answer by their
 * ids.  A restart that lost them hangs (and the test's time limit catches it). */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile int proc_ticks, thread_ticks;
static volatile pid_t worker_tid;

static void on_proc(int sig) { (void)sig; proc_ticks++; }
static void on_thread(int sig) { (void)sig; thread_ticks++; }

static void *worker(void *arg)
{
    (void)arg;
    sigset_t rt;
    sigemptyset(&rt);
    sigaddset(&rt, SIGRTMIN + 1);
    pthread_sigmask(SIG_UNBLOCK, &rt, NULL);
    worker_tid = (pid_t)syscall(SYS_gettid);
    for (;;)
        pause();
    return NULL;
}

int main(int argc, char **argv)
{
    int goal = argc > 1 ? atoi(argv[1]) : 100;
    signal(SIGUSR2, on_proc);
    signal(SIGRTMIN + 1, on_thread);
    sigset_t rt;
    sigemptyset(&rt);
    sigaddset(&rt, SIGRTMIN + 1);
    pthread_sigmask(SIG_BLOCK, &rt, NULL); /* main never takes the thread's signal */
    pthread_t th;
    pthread_create(&th, NULL, worker, NULL);
    while (!worker_tid)
        usleep(1000);
    timer_t gone, tp, tt;
    struct sigevent ev = { .sigev_notify = SIGEV_NONE };
    timer_create(CLOCK_MONOTONIC, &ev, &gone);
    timer_delete(gone);
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGUSR2;
    if (timer_create(CLOCK_MONOTONIC, &ev, &tp) < 0)
        return 2;
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev.sigev_signo = SIGRTMIN + 1;
    ev._sigev_un._tid = worker_tid;
    if (timer_create(CLOCK_MONOTONIC, &ev, &tt) < 0)
        return 3;
    struct itimerspec p = { { 0, 20000000 }, { 0, 20000000 } }, t = { { 0, 30000000 }, { 0, 30000000 } };
    timer_settime(tp, 0, &p, NULL);
    timer_settime(tt, 0, &t, NULL);
    printf("timers %ld %ld\n", (long)(intptr_t)tp, (long)(intptr_t)tt);
    fflush(stdout);
    int shown = 0;
    while (proc_ticks < goal || thread_ticks < goal * 2 / 3) {
        usleep(10000);
        struct itimerspec now;
        if (timer_gettime(tp, &now) < 0 || timer_gettime(tt, &now) < 0) {
            printf("a timer is gone\n");
            return 4;
        }
        while (shown + 10 <= proc_ticks && shown < goal) {
            shown += 10;
            printf("ticks %d\n", shown);
            fflush(stdout);
        }
    }
    for (; shown < goal; shown += 10)
        printf("ticks %d\n", shown + 10);
    printf("done\n");
    return 0;
}
