/* AIO contexts a checkpoint refuses, the program going on after: aiomodes MODE
 *   poll  an IOCB_CMD_POLL for an empty pipe stays in flight; on SIGUSR1 the pipe gets
 *         a byte and the poll must complete
 *   raw   the context made by a system call that does not go through syscall(); on
 *         SIGUSR1 a read through it must complete
 * Prints "ready", then "ok" or "FAIL: ..." after SIGUSR1. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/aio_abi.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long raw3(long n, long a, long b, long c)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return ret;
}

static void die(const char *what)
{
    printf("FAIL: %s: %s\n", what, strerror(errno));
    exit(1);
}

int main(int argc, char **argv)
{
    int raw = argc > 1 && !strcmp(argv[1], "raw");
    aio_context_t ctx = 0;
    if ((raw ? raw3(SYS_io_setup, 8, (long)&ctx, 0) : syscall(SYS_io_setup, 8, &ctx)) != 0)
        die("io_setup");
    int p[2];
    if (pipe(p) < 0)
        die("pipe");
    static char buf[4];
    struct iocb cb, *pcb = &cb;
    memset(&cb, 0, sizeof cb);
    cb.aio_fildes = (uint32_t)p[0];
    cb.aio_data = 5;
    if (raw) {
        cb.aio_lio_opcode = IOCB_CMD_PREAD;
        cb.aio_buf = (uint64_t)(uintptr_t)buf;
        cb.aio_nbytes = 1;
    } else {
        cb.aio_lio_opcode = IOCB_CMD_POLL;
        cb.aio_buf = POLLIN;
        if (syscall(SYS_io_submit, ctx, 1, &pcb) != 1)
            die("io_submit");
    }
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    sigprocmask(SIG_BLOCK, &s, NULL);
    printf("ready\n");
    fflush(stdout);
    struct timespec ts = { 120, 0 };
    int sig;
    while ((sig = sigtimedwait(&s, NULL, &ts)) < 0 && errno == EINTR)
        ; /* the runtime's signal (the time starts again: a bound all the same) */
    if (sig != SIGUSR1)
        die("no SIGUSR1");
    if (write(p[1], "x", 1) != 1)
        die("write");
    if (raw && syscall(SYS_io_submit, ctx, 1, &pcb) != 1)
        die("io_submit");
    struct io_event ev;
    ts.tv_sec = 20;
    long n;
    while ((n = syscall(SYS_io_getevents, ctx, 1, 1, &ev, &ts)) < 0 && errno == EINTR)
        ;
    if (n != 1 || ev.data != 5 || (raw ? ev.res != 1 : !(ev.res & POLLIN))) {
        printf("FAIL: the request did not complete as it should: %ld event(s), data %llu res %lld\n",
               n, (unsigned long long)ev.data, (long long)ev.res);
        return 1;
    }
    printf("ok\n");
    return 0;
}
