/* Four threads, each with thread-local values of its own (an int, an array, a
 * pointer to its own stack), blocked reading a pipe: each finds its values. */
#include "conf.h"
#include <pthread.h>

#define N 4
static __thread int tl_id = -1;
static __thread char tl_buf[64];
static __thread void *tl_stack;
static int go[N][2];
static char result[N][200];

static void check(int i, char *out)
{
    char want[64];
    snprintf(want, sizeof want, "thread %d's buffer", i);
    volatile char here;
    if (tl_id != i)
        snprintf(out, 200, "thread %d: tl_id expected %d, got %d", i, i, tl_id);
    else if (strcmp(tl_buf, want))
        snprintf(out, 200, "thread %d: tl_buf expected '%s', got '%s'", i, want, tl_buf);
    else if ((uintptr_t)tl_stack - (uintptr_t)&here + (1 << 20) > (2 << 20)) /* more than 1 MiB away */
        snprintf(out, 200, "thread %d: its stack moved (%p, now %p)", i, tl_stack, (void *)&here);
}

static void *run(void *arg)
{
    int i = (int)(intptr_t)arg;
    volatile char here;
    tl_id = i;
    snprintf(tl_buf, sizeof tl_buf, "thread %d's buffer", i);
    tl_stack = (void *)&here;
    char c;
    while (read(go[i][0], &c, 1) < 0 && errno == EINTR)
        ;
    check(i, result[i]);
    return NULL;
}

int main(void)
{
    pthread_t t[N];
    cf_block_usr2(); /* before any thread: SIGUSR2 is for the main thread's cf_wait() */
    for (int i = 0; i < N; i++) {
        cf_sys(pipe(go[i]));
        cf_check(pthread_create(&t[i], NULL, run, (void *)(intptr_t)i) == 0, "pthread_create");
    }
    tl_id = 100;
    snprintf(tl_buf, sizeof tl_buf, "main's buffer");
    cf_ready();
    cf_wait();
    for (int i = 0; i < N; i++) {
        cf_write_all(go[i][1], "g", 1);
        cf_check(pthread_join(t[i], NULL) == 0, "pthread_join %d", i);
        cf_check(result[i][0] == 0, "%s", result[i]);
    }
    cf_check(tl_id == 100 && strcmp(tl_buf, "main's buffer") == 0, "main thread: tl_id 100 'main's buffer' expected, got %d '%s'", tl_id, tl_buf);
    cf_pass();
}
