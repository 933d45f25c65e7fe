/* A thread that blocks every signal with a raw system call (behind the runtime's
 * back), so it can never reach a checkpoint; the main thread prints steps. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void *stubborn(void *arg)
{
    (void)arg;
    unsigned long all = ~0UL;
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, 8);
    for (;;)
        pause();
    return NULL;
}

int main(int argc, char **argv)
{
    int steps = argc > 1 ? atoi(argv[1]) : 30;
    pthread_t th;
    pthread_create(&th, NULL, stubborn, NULL);
    for (int s = 0; s < steps; s++) {
        printf("step %d\n", s);
        fflush(stdout);
        struct timespec ts = { 0, 100 * 1000000L };
        nanosleep(&ts, NULL);
    }
    printf("done\n");
    return 0;
}
