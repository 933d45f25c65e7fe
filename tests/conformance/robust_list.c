/* The robust futex list head of the main thread (glibc's), and a robust mutex held
 * by a thread that then exits: the owner-died state is reported afterwards. */
#include "conf.h"
#include <linux/futex.h>
#include <pthread.h>

static pthread_mutex_t mx;
static void *hold(void *a) { (void)a; pthread_mutex_lock(&mx); return NULL; } /* exits holding it */

int main(void)
{
    struct robust_list_head *h0 = NULL;
    size_t len;
    cf_sys(syscall(SYS_get_robust_list, 0, &h0, &len));
    cf_block_usr2();
    pthread_mutexattr_t at;
    pthread_mutexattr_init(&at);
    pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&mx, &at);
    cf_ready();
    cf_wait();
    struct robust_list_head *h1 = NULL;
    cf_sys(syscall(SYS_get_robust_list, 0, &h1, &len));
    cf_check(h1 == h0, "robust list head: expected %p, got %p", (void *)h0, (void *)h1);
    pthread_t t;
    cf_check(pthread_create(&t, NULL, hold, NULL) == 0, "pthread_create");
    pthread_join(t, NULL);
    int r = pthread_mutex_lock(&mx);
    cf_check(r == EOWNERDEAD, "locking the mutex its dead owner held: expected EOWNERDEAD, got %s", r ? strerror(r) : "success");
    cf_pass();
}
