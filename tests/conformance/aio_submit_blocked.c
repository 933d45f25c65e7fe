/* A thread blocked in io_submit at the checkpoint: the first of its two requests reads
 * an empty pipe (pipes have no asynchronous reads: io_submit waits in it), the second
 * names a closed fd and is refused.  The checkpoint's signal completes the read with
 * -EINTR, as any signal does; io_submit returns 1, and after the checkpoint the event
 * is there once, the data written later is still in the pipe and the context goes on. */
#include "conf.h"
#include "aio.h"
#include <pthread.h>

static aio_context_t ctx;
static int p[2];
static char buf[8];
static struct iocb cbs[2];
static volatile long submitted = -100;
static volatile int err;
static volatile pid_t tid;

static void *submitter(void *arg)
{
    (void)arg;
    struct iocb *pcb[2] = { &cbs[0], &cbs[1] };
    tid = (pid_t)syscall(SYS_gettid);
    long n = cf_io_submit(ctx, 2, pcb);
    err = errno;
    submitted = n;
    return NULL;
}

int main(void)
{
    cf_sys(cf_io_setup(8, &ctx));
    cf_sys(pipe(p));
    int closed = dup(p[0]);
    cf_sys(closed);
    close(closed);
    cf_prep_pread(&cbs[0], p[0], buf, 3, 0, 1);
    cf_prep_pread(&cbs[1], closed, buf + 4, 3, 0, 2);
    cf_block_usr2(); /* in the submitter too */
    pthread_t t;
    cf_check(pthread_create(&t, NULL, submitter, NULL) == 0, "pthread_create");
    /* until it waits in the kernel, in io_submit (its /proc syscall file says 209) */
    double end = cf_now() + 20;
    for (;;) {
        char path[96];
        long nr = -1;
        snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)tid);
        FILE *f = tid ? fopen(path, "r") : NULL;
        if (f) {
            if (fscanf(f, "%ld", &nr) != 1)
                nr = -1;
            fclose(f);
        }
        if (nr == SYS_io_submit)
            break;
        cf_check(cf_now() < end, "the thread is not waiting in io_submit after 20 s (%ld)", nr);
        struct timespec ts = { 0, 2 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    cf_ready();
    cf_wait();
    cf_write_all(p[1], "abc", 3);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 20;
    cf_check(pthread_timedjoin_np(t, NULL, &ts) == 0, "io_submit did not return within 20 s");
    cf_check(submitted == 1, "io_submit returned %ld (%s), expected 1 (the closed fd refused)",
             submitted, submitted < 0 ? strerror(err) : "");
    struct io_event ev[2];
    long n = cf_io_reap(ctx, 1, 2, ev, 10);
    cf_check(n == 1 && ev[0].data == 1, "%ld events (data %llu), expected the pipe read's", n,
             (unsigned long long)ev[0].data);
    if (ev[0].res == -EINTR) { /* a checkpoint's signal came: the data waits in the pipe */
        char got[4] = "";
        cf_read_all(p[0], got, 3, "the pipe after the interrupted read");
        cf_check(!memcmp(got, "abc", 3), "the pipe held '%.3s'", got);
    } else {
        cf_check(ev[0].res == 3 && !memcmp(buf, "abc", 3), "the read: res %lld '%.3s'",
                 (long long)ev[0].res, buf);
    }
    struct timespec zero = { 0, 0 };
    cf_check(cf_io_getevents(ctx, 0, 2, ev, &zero) == 0, "another event came");
    cf_write_all(p[1], "xyz", 3);
    struct iocb *pcb = &cbs[0];
    cf_prep_pread(&cbs[0], p[0], buf, 3, 0, 9);
    cf_check(cf_io_submit(ctx, 1, &pcb) == 1, "io_submit after: %s", strerror(errno));
    n = cf_io_reap(ctx, 1, 1, ev, 10);
    cf_check(n == 1 && ev[0].data == 9 && ev[0].res == 3 && !memcmp(buf, "xyz", 3),
             "the new read: %ld events, res %lld", n, (long long)ev[0].res);
    cf_sys(cf_io_destroy(ctx));
    cf_pass();
}
