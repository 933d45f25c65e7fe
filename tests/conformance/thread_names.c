/* Three threads named with pthread_setname_np, blocked reading a pipe: each keeps
 * its name (/proc/thread-self/comm). */
#include "conf.h"
#include <pthread.h>

#define N 3
static int go[2];
static char result[N][200];

static void *run(void *arg)
{
    int i = (int)(intptr_t)arg;
    char c, want[16];
    snprintf(want, sizeof want, "conf-worker-%d", i);
    while (read(go[0], &c, 1) < 0 && errno == EINTR)
        ;
    const char *got = cf_proc_field("/proc/thread-self/comm", "");
    if (strcmp(got, want))
        snprintf(result[i], sizeof result[i], "thread %d: name expected '%s', got '%s'", i, want, got);
    return NULL;
}

int main(void)
{
    pthread_t t[N];
    cf_block_usr2();
    cf_sys(pipe(go));
    for (int i = 0; i < N; i++) {
        char name[16];
        snprintf(name, sizeof name, "conf-worker-%d", i);
        cf_check(pthread_create(&t[i], NULL, run, (void *)(intptr_t)i) == 0, "pthread_create");
        cf_check(pthread_setname_np(t[i], name) == 0, "pthread_setname_np");
    }
    cf_ready();
    cf_wait();
    cf_write_all(go[1], "ggg", N);
    for (int i = 0; i < N; i++) {
        cf_check(pthread_join(t[i], NULL) == 0, "pthread_join");
        cf_check(!result[i][0], "%s", result[i]);
    }
    cf_pass();
}
