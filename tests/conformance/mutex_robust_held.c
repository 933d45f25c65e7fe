/* Robust mutexes held at the checkpoint: an error-checking one by the main thread, one
 * by a second thread, a recursive one by the main thread.  Each is still its owner's
 * afterwards (glibc compares the tid in the futex word, and a recursive one's __owner,
 * with the thread's): unlocked without EPERM, locked again without hanging. */
#include "conf.h"
#include <pthread.h>

static pthread_mutex_t m, m2, m3;
static volatile int t_locked, t_go;

static void *holder(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&m2);
    t_locked = 1;
    while (!t_go)
        usleep(1000);
    int r = pthread_mutex_unlock(&m2);
    return (void *)(intptr_t)r;
}

int main(void)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_init(&m, &a);
    pthread_mutex_init(&m2, &a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&m3, &a);
    cf_check(pthread_mutex_lock(&m) == 0, "pthread_mutex_lock");
    cf_check(pthread_mutex_lock(&m3) == 0, "pthread_mutex_lock (recursive)");
    pthread_t t;
    pthread_create(&t, NULL, holder, NULL);
    while (!t_locked)
        usleep(1000);
    cf_ready();
    cf_wait();
    int r = pthread_mutex_unlock(&m);
    cf_check(r == 0, "unlocking the robust mutex it holds: %s", strerror(r));
    struct timespec soon;
    clock_gettime(CLOCK_REALTIME, &soon);
    soon.tv_sec += 2;
    r = pthread_mutex_timedlock(&m3, &soon);
    cf_check(r == 0, "locking again the robust recursive mutex it holds: %s", strerror(r));
    cf_check((r = pthread_mutex_unlock(&m3)) == 0, "first unlock of the recursive one: %s", strerror(r));
    cf_check((r = pthread_mutex_unlock(&m3)) == 0, "second unlock of the recursive one: %s", strerror(r));
    t_go = 1;
    void *res;
    pthread_join(t, &res);
    cf_check(res == 0, "the thread unlocking its robust mutex: %s", strerror((int)(intptr_t)res));
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 2;
    r = pthread_mutex_timedlock(&m2, &until);
    cf_check(r == 0, "locking the mutex the thread let go: %s", strerror(r));
    cf_pass();
}
