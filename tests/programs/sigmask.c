/* A signal handler and a blocked-signal mask that must survive a restart. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t usr1;

extern const ptrdiff_t __rseq_offset __attribute__((weak));
extern const unsigned int __rseq_size __attribute__((weak));

/* "ok" if this thread has its rseq area registered with the kernel (registering it
 * again then fails with EBUSY), or if glibc does not use rseq at all. */
static const char *rseq_state(void)
{
    if (!&__rseq_size || __rseq_size == 0)
        return "ok";
    char *tp;
    __asm__("mov %%fs:0, %0" : "=r"(tp));
    unsigned len = __rseq_size < 32 ? 32 : __rseq_size;
    long r = syscall(SYS_rseq, tp + __rseq_offset, len, 0, 0x53053053);
    return r < 0 && errno == EBUSY ? "ok" : "LOST";
}

static void on_usr1(int sig)
{
    (void)sig;
    usr1++;
}

int main(int argc, char **argv)
{
    int steps = argc > 1 ? atoi(argv[1]) : 40;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGHUP, SIG_IGN);
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR2);
    sigaddset(&block, SIGWINCH);
    sigprocmask(SIG_BLOCK, &block, NULL);
    for (int s = 0; s < steps; s++) {
        sigset_t now;
        sigprocmask(SIG_BLOCK, NULL, &now);
        struct sigaction cur;
        sigaction(SIGUSR1, NULL, &cur);
        struct sigaction hup;
        sigaction(SIGHUP, NULL, &hup);
        if (s == 5) { /* blocked, so they stay pending: one for this thread, one for the process */
            raise(SIGUSR2);
            kill(getpid(), SIGWINCH);
        }
        sigset_t pend;
        sigpending(&pend);
        printf("pending usr2 %d winch %d, ", sigismember(&pend, SIGUSR2), sigismember(&pend, SIGWINCH));
        /* pthread_kill uses the thread's tid as glibc stored it: it must be the new one */
        printf("step %d rseq %s tid %s mask %s handler %s hup %s\n", s, rseq_state(),
               pthread_kill(pthread_self(), 0) == 0 ? "ok" : "LOST",
               sigismember(&now, SIGUSR2) && sigismember(&now, SIGWINCH) && !sigismember(&now, SIGUSR1)
                   ? "ok" : "LOST",
               cur.sa_handler == on_usr1 ? "ok" : "LOST", hup.sa_handler == SIG_IGN ? "ok" : "LOST");
        fflush(stdout);
        struct timespec ts = { 0, 50 * 1000000L };
        nanosleep(&ts, NULL);
    }
    /* a raise() goes through the handler; USR2 stays blocked */
    raise(SIGUSR1);
    raise(SIGUSR2);
    printf("handled %d\n", usr1 > 0);
    return 0;
}
