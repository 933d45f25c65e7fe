/* A thread blocked in io_getevents (no request yet) at the checkpoint: it stops, and
 * after it waits again (io_getevents returns EINTR for any signal, as the kernel does;
 * the program calls it again) and reaps the request made afterwards. */
#include "conf.h"
#include "aio.h"
#include <pthread.h>

static aio_context_t ctx;
static struct io_event got;
static volatile int eintr, waiting;

static void *reaper(void *arg)
{
    (void)arg;
    for (;;) {
        waiting = 1;
        long n = cf_io_getevents(ctx, 1, 1, &got, NULL);
        if (n == 1)
            return NULL;
        if (n < 0 && errno == EINTR) {
            eintr++;
            continue;
        }
        got.res = -1000 - errno;
        return NULL;
    }
}

int main(void)
{
    cf_sys(cf_io_setup(16, &ctx));
    struct cf_aio_ring *ring = (struct cf_aio_ring *)(uintptr_t)ctx;
    unsigned nr = ring->nr;
    cf_block_usr2(); /* in the reaper too: SIGUSR2 is for sigtimedwait */
    pthread_t t;
    cf_check(pthread_create(&t, NULL, reaper, NULL) == 0, "pthread_create");
    double end = cf_now() + 20;
    while (!waiting && cf_now() < end)
        sched_yield();
    cf_ready();
    cf_wait();
    cf_check(ring->nr == nr, "ring nr %u, expected %u", ring->nr, nr);
    int p[2];
    cf_sys(pipe(p));
    cf_write_all(p[1], "reaped", 6);
    static char buf[8];
    struct iocb cb, *pcb = &cb;
    cf_prep_pread(&cb, p[0], buf, 6, 0, 42);
    long n = cf_io_submit(ctx, 1, &pcb);
    cf_check(n == 1, "io_submit: %ld (%s)", n, n < 0 ? strerror(errno) : "");
    void *r;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 20;
    cf_check(pthread_timedjoin_np(t, &r, &ts) == 0, "the reaping thread did not get its event in 20 s");
    cf_check(got.data == 42 && got.res == 6 && !memcmp(buf, "reaped", 6),
             "the thread's event: data %llu res %lld (%.6s)", (unsigned long long)got.data,
             (long long)got.res, buf);
    cf_sys(cf_io_destroy(ctx));
    cf_pass();
}
