/* AIO reads in flight at the checkpoint: a thread keeps 16 O_DIRECT reads of a file
 * going (buffered where the file system has no O_DIRECT) and reaps them, each
 * completion notifying an eventfd (IOCB_FLAG_RESFD).  After the checkpoint every
 * request it made completes exactly once with the file's data, and the eventfd
 * counted each completion once. */
#include "conf.h"
#include "aio.h"
#include <pthread.h>
#include <sys/eventfd.h>

#define DEPTH 16
#define BLK 65536
#define FILE_BLKS 64

static aio_context_t ctx;
static int fd, efd;
static volatile int stop, started;
static unsigned char *bufs[DEPTH];
static struct iocb cbs[DEPTH];
static uint64_t seq[DEPTH], reaped, submitted;
static char why[300];

static int submit(int slot)
{
    static uint64_t next;
    long blk = (long)(next * 7 % FILE_BLKS);
    struct iocb *p = &cbs[slot];
    cf_prep_pread(p, fd, bufs[slot], BLK, blk * BLK, ((uint64_t)slot << 32) | next);
    p->aio_flags = IOCB_FLAG_RESFD;
    p->aio_resfd = (uint32_t)efd;
    seq[slot] = next++;
    for (;;) {
        long n = cf_io_submit(ctx, 1, &p);
        if (n == 1) {
            submitted++;
            return 0;
        }
        if (n < 0 && errno == EINTR)
            continue;
        snprintf(why, sizeof why, "io_submit: %ld (%s)", n, n < 0 ? strerror(errno) : "");
        return -1;
    }
}

static int check(const struct io_event *e)
{
    int slot = (int)(e->data >> 32);
    if (slot >= DEPTH || (uint32_t)e->data != (uint32_t)seq[slot] || e->obj != (uint64_t)(uintptr_t)&cbs[slot]) {
        snprintf(why, sizeof why, "an event for no request in flight: data %llx obj %llx",
                 (unsigned long long)e->data, (unsigned long long)e->obj);
        return -1;
    }
    long blk = (long)(seq[slot] * 7 % FILE_BLKS);
    if (e->res != BLK || *(uint64_t *)bufs[slot] != (uint64_t)blk * 1000 + 17) {
        snprintf(why, sizeof why, "request %llu: res %lld, block tag %llu (expected %ld)",
                 (unsigned long long)seq[slot], (long long)e->res,
                 (unsigned long long)*(uint64_t *)bufs[slot], blk * 1000 + 17);
        return -1;
    }
    seq[slot] = ~0ull;
    reaped++;
    return 0;
}

static void *worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < DEPTH; i++)
        if (submit(i) < 0)
            return NULL;
    started = 1;
    struct io_event ev[DEPTH];
    while (reaped < submitted) {
        struct timespec ts = { 20, 0 };
        long n = cf_io_getevents(ctx, 1, DEPTH, ev, &ts);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(why, sizeof why, "io_getevents: %ld (%s): %llu of %llu requests never completed",
                     n, n < 0 ? strerror(errno) : "20 s without an event",
                     (unsigned long long)(submitted - reaped), (unsigned long long)submitted);
            return NULL;
        }
        for (long i = 0; i < n; i++) {
            if (check(&ev[i]) < 0)
                return NULL;
            if (!stop && submit((int)(ev[i].data >> 32)) < 0)
                return NULL;
        }
    }
    return NULL;
}

int main(void)
{
    static unsigned char blk[BLK] __attribute__((aligned(4096)));
    int w = open("data", O_CREAT | O_TRUNC | O_WRONLY, 0600);
    cf_sys(w);
    for (long i = 0; i < FILE_BLKS; i++) {
        memset(blk, (int)i, BLK);
        *(uint64_t *)blk = (uint64_t)i * 1000 + 17;
        cf_write_all(w, blk, BLK);
    }
    cf_sys(fsync(w));
    close(w);
    fd = open("data", O_RDONLY | O_DIRECT);
    if (fd < 0 && errno == EINVAL)
        fd = open("data", O_RDONLY);
    cf_sys(fd);
    efd = eventfd(0, EFD_NONBLOCK);
    cf_sys(efd);
    for (int i = 0; i < DEPTH; i++)
        cf_check(posix_memalign((void **)&bufs[i], 4096, BLK) == 0, "posix_memalign");
    cf_sys(cf_io_setup(DEPTH, &ctx));
    cf_block_usr2(); /* in the worker too: SIGUSR2 is for sigtimedwait */
    pthread_t t;
    cf_check(pthread_create(&t, NULL, worker, NULL) == 0, "pthread_create");
    double end = cf_now() + 20;
    while (!started && cf_now() < end)
        sched_yield();
    cf_ready();
    cf_wait();
    stop = 1;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 60;
    cf_check(pthread_timedjoin_np(t, NULL, &ts) == 0, "the worker did not end within 60 s");
    cf_check(!why[0], "%s", why);
    cf_check(reaped == submitted && submitted >= DEPTH, "%llu reaped of %llu submitted",
             (unsigned long long)reaped, (unsigned long long)submitted);
    uint64_t count = 0;
    cf_check(read(efd, &count, 8) == 8 && count == reaped, "eventfd counter %llu, expected %llu "
             "(one per completion)", (unsigned long long)count, (unsigned long long)reaped);
    cf_sys(cf_io_destroy(ctx));
    cf_pass();
}
