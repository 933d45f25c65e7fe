/* A thread asleep in poll() on an empty pipe with a 60 s timeout when the checkpoint
 * comes: after the restart a byte written to the pipe wakes it at once. */
#include "conf.h"
#include <poll.h>
#include <pthread.h>

static int p[2];
static volatile int woke;

static void *sleeper(void *arg)
{
    (void)arg;
    struct pollfd f = { p[0], POLLIN, 0 };
    int n;
    do
        n = poll(&f, 1, 60000);
    while (n < 0 && errno == EINTR);
    woke = n == 1 && (f.revents & POLLIN) ? 1 : -1;
    return NULL;
}

int main(void)
{
    cf_sys(pipe(p));
    pthread_t t;
    cf_check(pthread_create(&t, NULL, sleeper, NULL) == 0, "pthread_create failed");
    cf_ready();
    cf_wait();
    cf_check(!woke, "the poll returned before anything was written");
    cf_write_all(p[1], "x", 1);
    double end = cf_now() + 10;
    while (!woke && cf_now() < end)
        nanosleep(&(struct timespec){ 0, 2000000 }, NULL);
    cf_check(woke == 1, "the poll did not see the byte (%d)", woke);
    pthread_join(t, NULL);
    cf_pass();
}
