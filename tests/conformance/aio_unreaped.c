/* Completed AIO reads not reaped yet at the checkpoint (two of them notifying an
 * eventfd, IOCB_FLAG_RESFD): after it the context has the same id (the [aio] ring at
 * the same address, the same number of events), io_getevents returns them with
 * their data, new requests work and io_destroy ends the context. */
#include "conf.h"
#include "aio.h"
#include <sys/eventfd.h>

int main(void)
{
    aio_context_t ctx = 0;
    cf_sys(cf_io_setup(8, &ctx));
    struct cf_aio_ring *ring = (struct cf_aio_ring *)(uintptr_t)ctx;
    unsigned nr = ring->nr;
    int p[2], efd = eventfd(0, EFD_NONBLOCK);
    cf_sys(pipe(p));
    cf_sys(efd);
    cf_write_all(p[1], "first second third", 18);
    static char bufs[3][8];
    struct iocb cbs[3], *pcb[3];
    static const size_t len[3] = { 6, 7, 5 };
    for (int i = 0; i < 3; i++) {
        cf_prep_pread(&cbs[i], p[0], bufs[i], len[i], 0, 100 + (uint64_t)i);
        if (i < 2) {
            cbs[i].aio_flags = IOCB_FLAG_RESFD;
            cbs[i].aio_resfd = (uint32_t)efd;
        }
        pcb[i] = &cbs[i];
    }
    long n = cf_io_submit(ctx, 3, pcb);
    cf_check(n == 3, "io_submit: %ld (%s)", n, n < 0 ? strerror(errno) : "fewer");
    unsigned head = ring->head, tail = ring->tail;
    cf_check(tail - head == 3, "3 events in the ring expected, head %u tail %u", head, tail);
    cf_ready();
    cf_wait();
    cf_check(ring->magic == 0xa10a10a1 && ring->nr == nr && ring->head == head && ring->tail == tail,
             "the ring at 0x%llx: magic %x nr %u head %u tail %u, expected nr %u head %u tail %u",
             (unsigned long long)ctx, ring->magic, ring->nr, ring->head, ring->tail, nr, head, tail);
    struct cf_map m;
    cf_check(cf_map_of(ring, &m) && strstr(m.name, "[aio]"), "no [aio] mapping at 0x%llx (found '%s')",
             (unsigned long long)ctx, m.name);
    uint64_t count = 0;
    cf_check(read(efd, &count, 8) == 8 && count == 2, "eventfd counter: expected 2, got %llu",
             (unsigned long long)count);
    struct io_event ev[4];
    struct timespec zero = { 0, 0 };
    n = cf_io_getevents(ctx, 1, 4, ev, &zero);
    cf_check(n == 3, "io_getevents: %ld events (%s), expected the 3 not reaped", n, n < 0 ? strerror(errno) : "");
    static const char *want[3] = { "first ", "second ", "third" };
    for (int i = 0; i < 3; i++) {
        cf_check(ev[i].data == 100 + (uint64_t)i && ev[i].obj == (uint64_t)(uintptr_t)&cbs[i] &&
                 ev[i].res == (int64_t)len[i], "event %d: data %llu obj %llx res %lld", i,
                 (unsigned long long)ev[i].data, (unsigned long long)ev[i].obj, (long long)ev[i].res);
        cf_check(!memcmp(bufs[i], want[i], len[i]), "read %d: '%.*s', expected '%s'", i, (int)len[i],
                 bufs[i], want[i]);
    }
    /* the context goes on: a new request, then the end */
    cf_write_all(p[1], "more", 4);
    cf_prep_pread(&cbs[0], p[0], bufs[0], 4, 0, 7);
    n = cf_io_submit(ctx, 1, pcb);
    cf_check(n == 1, "io_submit after: %ld (%s)", n, n < 0 ? strerror(errno) : "");
    n = cf_io_reap(ctx, 1, 1, ev, 10);
    cf_check(n == 1 && ev[0].data == 7 && ev[0].res == 4 && !memcmp(bufs[0], "more", 4),
             "the new request: %ld events, data %llu res %lld", n, (unsigned long long)ev[0].data,
             (long long)ev[0].res);
    cf_check(ring->tail == (tail + 1) % nr, "ring tail %u after one more, expected %u", ring->tail,
             (tail + 1) % nr);
    cf_sys(cf_io_destroy(ctx));
    n = cf_io_submit(ctx, 1, pcb);
    cf_check(n < 0 && errno == EINVAL, "io_submit after io_destroy: %ld (%s), expected EINVAL", n,
             strerror(errno));
    cf_pass();
}
