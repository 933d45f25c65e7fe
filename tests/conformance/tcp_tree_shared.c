/* A TCP connection inside the process, data queued both ways, and a child that
 * inherited both ends (the tree shares the two sockets): after the checkpoint the
 * parent finds its addresses and data, and the child's copies are the same sockets. */
#include "tcp_conf.h"

int main(void)
{
    struct sockaddr_storage a;
    socklen_t len;
    int l = tc_listener(TC_V6, &a, &len), c, k;
    tc_pair(TC_V6, l, &c, &k);
    tc_queue(c, 50000, 1);
    tc_queue(k, 70000, 2);
    struct tc_names nc, nk;
    tc_note(c, &nc);
    tc_note(k, &nk);
    int go[2];
    cf_sys(pipe(go));
    fflush(stdout);
    pid_t pid = fork();
    cf_sys(pid);
    if (pid == 0) { /* waits, then writes on its copy of c */
        char x;
        close(go[1]);
        if (read(go[0], &x, 1) != 1)
            _exit(2);
        _exit(send(c, "child", 5, MSG_NOSIGNAL) == 5 ? 0 : 3);
    }
    close(go[0]);
    cf_ready();
    cf_wait();
    tc_same(c, &nc, "client");
    tc_same(k, &nk, "server end");
    tc_expect(k, 50000, 1, "server end");
    tc_expect(c, 70000, 2, "client");
    cf_write_all(go[1], "g", 1);
    int st = cf_waitpid(pid, 20, "child");
    cf_check(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child could not write on its copy of the client (status 0x%x)", st);
    char b[5];
    cf_check(cf_readable(k, 5), "server end: the child's bytes did not come");
    cf_read_all(k, b, 5, "server end, the child's bytes");
    cf_check(memcmp(b, "child", 5) == 0, "server end: expected 'child'");
    cf_pass();
}
