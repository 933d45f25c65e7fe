/* A thread that returned a value and is not joined yet: joined afterwards, with its
 * value. */
#include "conf.h"
#include <pthread.h>

static void *run(void *a) { return (char *)a + 1; }

int main(void)
{
    pthread_t t;
    static char x[4];
    cf_block_usr2();
    cf_check(pthread_create(&t, NULL, run, x) == 0, "pthread_create");
    for (double end = cf_now() + 10; cf_now() < end;) { /* until it has exited */
        char path[64];
        int n = 0;
        snprintf(path, sizeof path, "/proc/self/status");
        n = atoi(cf_proc_field(path, "Threads:"));
        if (n <= 2) /* us and the runtime's thread, or us alone */
            break;
        nanosleep(&(struct timespec){ 0, 2000000 }, NULL);
    }
    cf_ready();
    cf_wait();
    void *r = NULL;
    int e = pthread_join(t, &r);
    cf_check(e == 0, "pthread_join: %s", strerror(e));
    cf_check(r == x + 1, "the thread's value: expected %p, got %p", (void *)(x + 1), r);
    cf_pass();
}
