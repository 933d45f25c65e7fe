/* Linux AIO through libaio (libaio.so.1, loaded at run time: its headers need not be
 * installed; exit 77 without it), whose calls go through libc's syscall(): two reads
 * of a pipe completed, one reaped before the checkpoint; on SIGUSR1 the other is
 * reaped with its data, a new read completes and io_destroy ends the context.
 * Prints "ready", then "ok" or "FAIL: ...". */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <linux/aio_abi.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef int (*setup_fn)(int, aio_context_t *);
typedef int (*destroy_fn)(aio_context_t);
typedef int (*submit_fn)(aio_context_t, long, struct iocb **);
typedef int (*getevents_fn)(aio_context_t, long, long, struct io_event *, struct timespec *);

static void fail(const char *what, long r)
{
    printf("FAIL: %s: %ld (%s)\n", what, r, r < 0 ? strerror((int)-r) : "");
    exit(1);
}

static void prep(struct iocb *cb, int fd, char *buf, size_t len, uint64_t tag)
{
    memset(cb, 0, sizeof *cb);
    cb->aio_lio_opcode = IOCB_CMD_PREAD;
    cb->aio_fildes = (uint32_t)fd;
    cb->aio_buf = (uint64_t)(uintptr_t)buf;
    cb->aio_nbytes = len;
    cb->aio_data = tag;
}

int main(void)
{
    void *lib = dlopen("libaio.so.1", RTLD_NOW);
    if (!lib)
        return 77;
    setup_fn io_setup = (setup_fn)dlsym(lib, "io_setup");
    destroy_fn io_destroy = (destroy_fn)dlsym(lib, "io_destroy");
    submit_fn io_submit = (submit_fn)dlsym(lib, "io_submit");
    getevents_fn io_getevents = (getevents_fn)dlsym(lib, "io_getevents");
    if (!io_setup || !io_destroy || !io_submit || !io_getevents)
        return 77;
    aio_context_t ctx = 0;
    long r = io_setup(4, &ctx);
    if (r)
        fail("io_setup", r);
    int p[2];
    if (pipe(p) < 0)
        fail("pipe", -errno);
    if (write(p[1], "onetwo", 6) != 6)
        fail("write", -errno);
    static char a[4], b[4];
    struct iocb cbs[2], *pcb[2] = { &cbs[0], &cbs[1] };
    prep(&cbs[0], p[0], a, 3, 1);
    prep(&cbs[1], p[0], b, 3, 2);
    if ((r = io_submit(ctx, 2, pcb)) != 2)
        fail("io_submit", r);
    struct io_event ev;
    struct timespec ts = { 5, 0 };
    if ((r = io_getevents(ctx, 1, 1, &ev, &ts)) != 1 || ev.data != 1)
        fail("the first event", r);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    sigprocmask(SIG_BLOCK, &s, NULL);
    printf("ready\n");
    fflush(stdout);
    struct timespec wait = { 120, 0 };
    int sig;
    while ((sig = sigtimedwait(&s, NULL, &wait)) < 0 && errno == EINTR)
        ;
    if (sig != SIGUSR1)
        fail("no SIGUSR1", -errno);
    while ((r = io_getevents(ctx, 1, 1, &ev, &ts)) == -EINTR)
        ;
    if (r != 1 || ev.data != 2 || ev.res != 3 || memcmp(b, "two", 3))
        fail("the event not reaped before the checkpoint", r);
    if (write(p[1], "new", 3) != 3)
        fail("write", -errno);
    prep(&cbs[0], p[0], a, 3, 3);
    if ((r = io_submit(ctx, 1, pcb)) != 1)
        fail("io_submit after", r);
    while ((r = io_getevents(ctx, 1, 1, &ev, &ts)) == -EINTR)
        ;
    if (r != 1 || ev.data != 3 || ev.res != 3 || memcmp(a, "new", 3))
        fail("the new request", r);
    if ((r = io_destroy(ctx)) != 0)
        fail("io_destroy", r);
    printf("ok\n");
    return 0;
}
