/* AIO contexts in a tree: the parent's, with an event not reaped, and its child's own,
 * made after fork (the child has the parent's ring mapped too, without its context:
 * fork does not share contexts).  After the checkpoint each reaps its own event, the
 * child's copy of the parent's ring is no context for it, and both go on. */
#include "conf.h"
#include "aio.h"

/* one read of "tag" from a pipe, completed and not reaped */
static void one_unreaped(aio_context_t ctx, int *p, struct iocb *cb, char *buf, uint64_t tag)
{
    cf_sys(pipe(p));
    cf_write_all(p[1], "abcd", 4);
    cf_prep_pread(cb, p[0], buf, 4, 0, tag);
    struct iocb *pcb = cb;
    cf_check(cf_io_submit(ctx, 1, &pcb) == 1, "io_submit: %s", strerror(errno));
}

static const char *check_own(aio_context_t ctx, uint64_t tag, const char *buf)
{
    static char why[200];
    struct io_event ev;
    long n = cf_io_reap(ctx, 1, 1, &ev, 10);
    if (n != 1 || ev.data != tag || ev.res != 4 || memcmp(buf, "abcd", 4)) {
        snprintf(why, sizeof why, "%ld events, data %llu res %lld", n, (unsigned long long)ev.data,
                 (long long)ev.res);
        return why;
    }
    struct timespec zero = { 0, 0 };
    if (cf_io_getevents(ctx, 0, 0, NULL, &zero) != 0) {
        snprintf(why, sizeof why, "the context is gone: %s", strerror(errno));
        return why;
    }
    return NULL;
}

int main(void)
{
    aio_context_t pctx = 0;
    cf_sys(cf_io_setup(4, &pctx));
    int pp[2], ask[2], ans[2];
    static struct iocb pcb;
    static char pbuf[4];
    one_unreaped(pctx, pp, &pcb, pbuf, 1);
    cf_sys(pipe(ask));
    cf_sys(pipe(ans));
    pid_t c = fork();
    cf_sys(c);
    if (c == 0) {
        close(ask[1]);
        close(ans[0]);
        aio_context_t cctx = 0;
        char b;
        if (cf_io_setup(4, &cctx) < 0)
            _exit(2);
        int cp[2];
        static struct iocb ccb;
        static char cbuf[4];
        one_unreaped(cctx, cp, &ccb, cbuf, 2);
        if (write(ans[1], "r", 1) != 1 || read(ask[0], &b, 1) != 1)
            _exit(3);
        const char *why = check_own(cctx, 2, cbuf);
        struct timespec zero = { 0, 0 };
        if (!why && cf_io_getevents(pctx, 0, 0, NULL, &zero) != -1)
            why = "the parent's context works in the child";
        char msg[256];
        snprintf(msg, sizeof msg, "%s", why ? why : "ok");
        _exit(write(ans[1], msg, strlen(msg)) > 0 && !why ? 0 : 4);
    }
    close(ask[0]);
    close(ans[1]);
    char b;
    cf_check(cf_readable(ans[0], 20) && read(ans[0], &b, 1) == 1, "the child did not set up");
    cf_ready();
    cf_wait();
    const char *why = check_own(pctx, 1, pbuf);
    cf_check(!why, "the parent's context: %s", why);
    cf_write_all(ask[1], "?", 1);
    char msg[256] = "";
    cf_check(cf_readable(ans[0], 20), "the child does not answer");
    ssize_t n = read(ans[0], msg, sizeof msg - 1);
    msg[n > 0 ? n : 0] = 0;
    cf_check(!strcmp(msg, "ok"), "the child's context: %s", msg);
    int st = cf_waitpid(c, 10, "the child");
    cf_check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child ended with 0x%x", st);
    cf_sys(cf_io_destroy(pctx));
    cf_pass();
}
