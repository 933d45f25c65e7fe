/* A preforking server's SO_REUSEPORT group across a tree: the parent and its child
 * each opened a listener of their own on 127.0.0.1:P: after the checkpoint both listen
 * there again, the child accepting the clients the kernel gives it. */
#include "tcp_conf.h"

static int reuseport_listener(struct sockaddr_storage *a, socklen_t *len)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    cf_sys(s);
    cf_setint(s, SOL_SOCKET, SO_REUSEPORT, 1);
    cf_sys(bind(s, (void *)a, *len));
    cf_sys(listen(s, 16));
    *len = sizeof *a;
    cf_sys(getsockname(s, (void *)a, len));
    return s;
}

int main(void)
{
    struct sockaddr_storage a;
    socklen_t len = cf_loopback(AF_INET, 0, &a);
    int l = reuseport_listener(&a, &len);
    int ready[2], report[2];
    cf_sys(pipe(ready));
    cf_sys(pipe(report));
    fflush(stdout);
    pid_t pid = fork();
    cf_sys(pid);
    if (pid == 0) { /* its own listener on the same port; accepts what comes, says how many */
        close(l);
        close(ready[0]);
        close(report[0]);
        socklen_t clen = len;
        int cl = reuseport_listener(&a, &clen);
        cf_write_all(ready[1], "R", 1);
        int n = 0;
        while (cf_readable(cl, 10)) {
            int k = accept(cl, NULL, NULL);
            if (k < 0)
                break;
            char x;
            if (recv(k, &x, 1, 0) == 1 && x == 'q') /* the parent's last word */
                break;
            close(k);
            n++;
        }
        char msg = (char)('0' + (n > 9 ? 9 : n));
        cf_write_all(report[1], &msg, 1);
        _exit(0);
    }
    close(ready[1]);
    close(report[1]);
    char x;
    cf_check(cf_readable(ready[0], 20) && read(ready[0], &x, 1) == 1, "the child did not get ready");
    cf_ready();
    cf_wait();
    cf_check(cf_getint(l, SOL_SOCKET, SO_REUSEPORT) == 1 && cf_getint(l, SOL_SOCKET, SO_ACCEPTCONN) == 1,
             "the parent's listener: expected listening with SO_REUSEPORT");
    int mine = 0;
    for (int i = 0; i < 32; i++) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        cf_check(c >= 0 && connect(c, (void *)&a, len) == 0, "client %d: connect: %s", i, strerror(errno));
        cf_sys(send(c, "x", 1, 0));
        if (cf_readable(l, 0.05)) {
            int k = accept(l, NULL, NULL);
            if (k >= 0)
                mine++, close(k);
        }
        close(c);
    }
    /* the child's last word: until a client reaches it */
    int told = 0;
    for (int i = 0; i < 64 && !told; i++) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        cf_check(c >= 0 && connect(c, (void *)&a, len) == 0, "last client: connect: %s", strerror(errno));
        cf_sys(send(c, "q", 1, 0));
        told = !cf_readable(l, 0.05);
        if (!told) {
            int k = accept(l, NULL, NULL);
            close(k);
        }
        close(c);
    }
    cf_check(told && cf_readable(report[0], 20) && read(report[0], &x, 1) == 1, "the child did not answer");
    int theirs = x - '0';
    cf_check(mine > 0 && theirs > 0, "the group's clients all went to one listener (parent %d, child %d)", mine, theirs);
    cf_waitpid(pid, 20, "child");
    cf_pass();
}
