/* Threads with signal masks of their own (SIGHUP; SIGINT and SIGTERM; SIGRTMIN+7),
 * blocked reading a pipe: each keeps its own mask. */
#include "conf.h"
#include <pthread.h>

#define N 3
static int go[2];
static char result[N][200];
static const int blocks[N][2] = { { SIGHUP, 0 }, { SIGINT, SIGTERM }, { 0, 0 } };

static void *run(void *arg)
{
    int i = (int)(intptr_t)arg;
    sigset_t s, want, got;
    sigemptyset(&s);
    for (int k = 0; k < 2; k++)
        if (blocks[i][k])
            sigaddset(&s, blocks[i][k]);
    if (i == 2)
        sigaddset(&s, SIGRTMIN + 7);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    pthread_sigmask(SIG_BLOCK, NULL, &want);
    char c;
    while (read(go[0], &c, 1) < 0 && errno == EINTR)
        ;
    pthread_sigmask(SIG_BLOCK, NULL, &got);
    for (int sig = 1; sig <= SIGRTMAX; sig++)
        if (sigismember(&want, sig) != sigismember(&got, sig)) {
            snprintf(result[i], sizeof result[i], "thread %d: signal %d expected %s, got %s", i, sig,
                     sigismember(&want, sig) ? "blocked" : "not blocked", sigismember(&got, sig) ? "blocked" : "not blocked");
            break;
        }
    return NULL;
}

int main(void)
{
    pthread_t t[N];
    cf_block_usr2();
    cf_sys(pipe(go));
    for (int i = 0; i < N; i++)
        cf_check(pthread_create(&t[i], NULL, run, (void *)(intptr_t)i) == 0, "pthread_create");
    cf_ready();
    cf_wait();
    cf_write_all(go[1], "ggg", N);
    for (int i = 0; i < N; i++) {
        cf_check(pthread_join(t[i], NULL) == 0, "pthread_join");
        cf_check(!result[i][0], "%s", result[i]);
    }
    cf_pass();
}
