/* An unprivileged process holds no capability; restarted (a tree in a user namespace
 * of its own, too) it must hold none either: CapEff, CapPrm and CapAmb stay 0. */
#include "conf.h"

static void check_none(const char *when)
{
    const char *keys[] = { "CapEff:", "CapPrm:", "CapAmb:" };
    for (int i = 0; i < 3; i++) {
        const char *v = cf_proc_field("/proc/self/status", keys[i]);
        cf_check(*v && strtoull(v, NULL, 16) == 0, "%s %s: %s", when, keys[i], v);
    }
}

int main(void)
{
    if (getuid() == 0)
        cf_pass(); /* (root's processes hold capabilities by design) */
    check_none("before");
    pid_t c = fork(); /* a tree, restored in its own namespaces */
    cf_sys(c);
    if (c == 0) {
        pause();
        _exit(0);
    }
    cf_ready();
    cf_wait();
    check_none("after");
    kill(c, SIGKILL);
    cf_waitpid(c, 10, "the child");
    cf_pass();
}
