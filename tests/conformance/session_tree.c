/* Process groups and sessions in a tree: we lead our group; a child leads a new
 * session with a grandchild in its group and one in a group of its own. */
#include "conf.h"

int main(void)
{
    cf_sys(setpgid(0, 0));
    int p[2];
    cf_sys(pipe(p));
    pid_t s = fork();
    cf_sys(s);
    if (s == 0) {
        setsid();
        pid_t g = fork();
        if (g == 0)
            for (;;) pause();
        pid_t h = fork();
        if (h == 0) {
            setpgid(0, 0);
            for (;;) pause();
        }
        setpgid(h, h);
        pid_t ids[2] = { g, h };
        if (write(p[1], ids, sizeof ids) != sizeof ids)
            _exit(1);
        for (;;) pause();
    }
    pid_t ids[2];
    cf_check(cf_readable(p[0], 10), "the child did not report its children");
    cf_read_all(p[0], ids, sizeof ids, "the children's pids");
    pid_t g = ids[0], h = ids[1];
    cf_check(getpgid(h) == h, "setup: %d has not its own group yet", (int)h); /* no race: set by both */
    cf_ready();
    cf_wait();
    cf_check(getpgrp() == getpid(), "our group: expected %d (we lead it), got %d", (int)getpid(), (int)getpgrp());
    cf_check(getsid(s) == s && getpgid(s) == s, "child %d: expected session and group %d, got session %d group %d", (int)s, (int)s,
             (int)getsid(s), (int)getpgid(s));
    cf_check(getsid(g) == s && getpgid(g) == s, "grandchild %d: expected session %d group %d, got session %d group %d", (int)g, (int)s,
             (int)s, (int)getsid(g), (int)getpgid(g));
    cf_check(getsid(h) == s && getpgid(h) == h, "grandchild %d: expected session %d group %d, got session %d group %d", (int)h, (int)s,
             (int)h, (int)getsid(h), (int)getpgid(h));
    kill(g, SIGKILL);
    kill(h, SIGKILL);
    kill(s, SIGKILL);
    cf_waitpid(s, 10, "the session leader");
    cf_pass();
}
