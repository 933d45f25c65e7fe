/* Linux AIO for the conformance tests: the raw system calls (glibc has no wrappers),
 * called through syscall() as libaio does, and the ring's header as the kernel lays
 * it out at the context's address. */
#ifndef CONF_AIO_H
#define CONF_AIO_H
#include <linux/aio_abi.h>

struct cf_aio_ring {
    unsigned id, nr, head, tail, magic, compat_features, incompat_features, header_length;
    struct io_event events[];
};

static long __attribute__((unused)) cf_io_setup(unsigned nr, aio_context_t *ctx)
{
    return syscall(SYS_io_setup, nr, ctx);
}
static long __attribute__((unused)) cf_io_destroy(aio_context_t ctx)
{
    return syscall(SYS_io_destroy, ctx);
}
static long __attribute__((unused)) cf_io_submit(aio_context_t ctx, long n, struct iocb **cbs)
{
    return syscall(SYS_io_submit, ctx, n, cbs);
}
static long __attribute__((unused)) cf_io_getevents(aio_context_t ctx, long min, long max,
                                                    struct io_event *ev, struct timespec *ts)
{
    return syscall(SYS_io_getevents, ctx, min, max, ev, ts);
}

/* a read of len bytes of fd at off into buf, its data tag */
static void __attribute__((unused)) cf_prep_pread(struct iocb *cb, int fd, void *buf, size_t len,
                                                  long long off, uint64_t tag)
{
    memset(cb, 0, sizeof *cb);
    cb->aio_lio_opcode = IOCB_CMD_PREAD;
    cb->aio_fildes = (uint32_t)fd;
    cb->aio_buf = (uint64_t)(uintptr_t)buf;
    cb->aio_nbytes = len;
    cb->aio_offset = off;
    cb->aio_data = tag;
}

/* until min events came (at most `seconds`, EINTR waits again): how many */
static long __attribute__((unused)) cf_io_reap(aio_context_t ctx, long min, long max,
                                               struct io_event *ev, double seconds)
{
    double end = cf_now() + seconds;
    long got = 0;
    while (got < min) {
        double left = end - cf_now();
        if (left <= 0)
            break;
        struct timespec ts = { (time_t)left, (long)((left - (time_t)left) * 1e9) };
        long n = cf_io_getevents(ctx, 1, max - got, ev + got, &ts);
        if (n < 0 && errno != EINTR)
            cf_fail("io_getevents: %s", strerror(errno));
        if (n > 0)
            got += n;
    }
    return got;
}
#endif
