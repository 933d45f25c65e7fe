/* A TCP connection between two processes of a tree (checkpointed together): the
 * child's client sent its bytes and shut down writing (FIN_WAIT2), the parent's
 * accepted end sent its own (CLOSE_WAIT); after the checkpoint each end has its
 * addresses, state and bytes, EOF or EPIPE where it had them. */
#include "tcp_conf.h"
#include <sys/ioctl.h>

/* until nothing fd sent waits to be acknowledged (at most 5 s) */
static void delivered(int fd, const char *what)
{
    double end = cf_now() + 5;
    int n = 1;
    while (ioctl(fd, TIOCOUTQ, &n) == 0 && n > 0 && cf_now() < end) {
        struct timespec ts = { 0, 2 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    cf_check(n == 0, "%s: %d bytes still not delivered", what, n);
}

static void child(const struct sockaddr_storage *a, socklen_t len, int ready, int report)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    sigprocmask(SIG_BLOCK, &s, NULL);
    int c = tc_client(AF_INET, 0);
    cf_sys(connect(c, (const void *)a, len));
    cf_setint(c, IPPROTO_TCP, TCP_NODELAY, 1);
    tc_queue(c, 4000, 1);
    cf_sys(shutdown(c, SHUT_WR));
    delivered(c, "child");
    tc_wait_state(c, TCP_FIN_WAIT2, "child");
    struct tc_names n;
    tc_note(c, &n);
    cf_write_all(ready, "R", 1);
    struct timespec ts = { CF_WAIT_SECONDS, 0 };
    while (sigtimedwait(&s, NULL, &ts) < 0)
        if (errno != EINTR)
            cf_fail("child: no SIGUSR1: %s", strerror(errno));
    /* a failure is told to the parent through stdout (the same file), then exit 1 */
    tc_same(c, &n, "child's client");
    cf_check(tc_state(c) == TCP_FIN_WAIT2, "child: state expected FIN_WAIT2, got %d", tc_state(c));
    cf_check(cf_getint(c, IPPROTO_TCP, TCP_NODELAY) == 1, "child: TCP_NODELAY expected 1");
    tc_expect(c, 6000, 2, "child's client");
    tc_expect_end(c, 0, "child's client, after the data");
    tc_expect_write(c, 1, "child's client (shut down for writing)");
    cf_write_all(report, "K", 1);
    exit(0);
}

int main(void)
{
    struct sockaddr_storage a;
    socklen_t len;
    int l = tc_listener(TC_V4, &a, &len);
    int ready[2], report[2];
    cf_sys(pipe(ready));
    cf_sys(pipe(report));
    fflush(stdout);
    pid_t pid = fork();
    cf_sys(pid);
    if (pid == 0) {
        close(l);
        close(ready[0]);
        close(report[0]);
        child(&a, len, ready[1], report[1]);
    }
    close(ready[1]);
    close(report[1]);
    int k = accept(l, NULL, NULL);
    cf_sys(k);
    tc_queue(k, 6000, 2);
    char x;
    cf_check(cf_readable(ready[0], 20) && read(ready[0], &x, 1) == 1, "the child did not get ready");
    delivered(k, "parent");
    tc_wait_state(k, TCP_CLOSE_WAIT, "parent");
    struct tc_names n;
    tc_note(k, &n);
    cf_ready();
    cf_wait();
    tc_same(k, &n, "parent's end");
    cf_check(tc_state(k) == TCP_CLOSE_WAIT, "parent: state expected CLOSE_WAIT, got %d", tc_state(k));
    tc_expect(k, 4000, 1, "parent's end");
    tc_expect_end(k, 1, "parent's end, after the child's bytes");
    cf_check(kill(pid, SIGUSR1) == 0, "kill child: %s", strerror(errno));
    cf_check(cf_readable(report[0], 30) && read(report[0], &x, 1) == 1,
             "the child found its end of the connection different (its line above)");
    int st = cf_waitpid(pid, 20, "child");
    cf_check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child ended with status 0x%x", st);
    cf_pass();
}
