/* A program that wants a real-time signal for itself (as the JDK wants SIGRTMAX-2):
 * it finds it unhandled, installs its handler, blocks every signal and sees them all
 * blocked, then raises the signal once per line and counts what its handler got.
 * Under cr_run with CR_SIGNUM set to that signal, the runtime must move out of its way;
 * the output is the same as an uninterrupted run's, checkpointed or not. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile sig_atomic_t got;

static void handler(int sig)
{
    (void)sig;
    got++;
}

int main(int argc, char **argv)
{
    int sig = argc > 1 ? atoi(argv[1]) : SIGRTMAX - 2, lines = argc > 2 ? atoi(argv[2]) : 20;
    struct sigaction sa, old;
    if (sigaction(sig, NULL, &old) != 0 || old.sa_handler != SIG_DFL) {
        printf("FAIL: signal %d is not free at the start\n", sig);
        return 1;
    }
    sa.sa_handler = handler;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) != 0 || sigaction(sig, NULL, &old) != 0 || old.sa_handler != handler) {
        printf("FAIL: cannot own signal %d\n", sig);
        return 1;
    }
    sigset_t all, now;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    sigprocmask(SIG_SETMASK, NULL, &now);
    for (int s = SIGRTMIN; s <= SIGRTMAX; s++)
        if (!sigismember(&now, s)) {
            printf("FAIL: signal %d is not blocked after blocking all\n", s);
            return 1;
        }
    sigemptyset(&now);
    sigprocmask(SIG_SETMASK, &now, NULL);
    long sum = 0;
    for (int i = 0; i < lines; i++) {
        raise(sig);
        for (long k = 0; k < 2000000; k++)
            sum += k % (i + 3);
        printf("%d %ld got %d\n", i, sum, (int)got);
        fflush(stdout);
        struct timespec ts = { 0, 100 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    return got == lines ? 0 : 1;
}
