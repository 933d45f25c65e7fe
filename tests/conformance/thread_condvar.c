/* A thread waiting on a condition variable: signalled afterwards, it wakes and sees
 * the value set. */
#include "conf.h"
#include <pthread.h>

static pthread_mutex_t mx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int value, waiting, seen;

static void *run(void *a)
{
    (void)a;
    pthread_mutex_lock(&mx);
    waiting = 1;
    pthread_cond_broadcast(&cv);
    while (!value)
        pthread_cond_wait(&cv, &mx);
    seen = value;
    pthread_mutex_unlock(&mx);
    return NULL;
}

int main(void)
{
    pthread_t t;
    cf_block_usr2();
    cf_check(pthread_create(&t, NULL, run, NULL) == 0, "pthread_create");
    pthread_mutex_lock(&mx);
    while (!waiting)
        pthread_cond_wait(&cv, &mx);
    pthread_mutex_unlock(&mx);
    cf_ready();
    cf_wait();
    pthread_mutex_lock(&mx);
    value = 31337;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mx);
    for (double end = cf_now() + 10; !__atomic_load_n(&seen, __ATOMIC_SEQ_CST) && cf_now() < end;)
        nanosleep(&(struct timespec){ 0, 2000000 }, NULL);
    cf_check(seen == 31337, "the waiting thread did not wake within 10 s (saw %d)", seen);
    cf_check(pthread_join(t, NULL) == 0, "pthread_join");
    cf_pass();
}
