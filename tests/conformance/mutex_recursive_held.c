/* A recursive mutex the main thread holds at the checkpoint: it locks it again
 * (glibc compares the mutex's owner with the thread's tid) and unlocks it twice. */
#include "conf.h"
#include <pthread.h>

static pthread_mutex_t m;

int main(void)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&m, &a);
    cf_check(pthread_mutex_lock(&m) == 0, "pthread_mutex_lock");
    cf_ready();
    cf_wait();
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 2;
    int r = pthread_mutex_timedlock(&m, &until);
    cf_check(r == 0, "locking again the recursive mutex it holds: %s", strerror(r));
    cf_check((r = pthread_mutex_unlock(&m)) == 0, "first unlock: %s", strerror(r));
    cf_check((r = pthread_mutex_unlock(&m)) == 0, "second unlock: %s", strerror(r));
    cf_pass();
}
