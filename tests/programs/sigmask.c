/* A signal handler and a blocked-signal mask that must survive a restart. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t usr1;

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
        printf("step %d mask %s handler %s hup %s\n", s,
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
