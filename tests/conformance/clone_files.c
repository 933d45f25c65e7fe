/* A child made with clone(CLONE_FILES) (not a thread) shares its parent's table of
 * file descriptors: an fd the parent opens afterwards is the child's too.  The
 * checkpoint refuses such a tree (KNOWN) rather than giving each a copy. */
#include "conf.h"

#include <sched.h>

int main(void)
{
    int go[2], back[2];
    cf_sys(pipe(go));
    cf_sys(pipe(back));
    pid_t c = (pid_t)syscall(SYS_clone, CLONE_FILES | SIGCHLD, 0, 0, 0, 0);
    cf_sys(c);
    if (c == 0) {
        int fd;
        if (read(go[0], &fd, sizeof fd) != sizeof fd)
            _exit(1);
        char ok = fcntl(fd, F_GETFD) >= 0 ? 'y' : 'n'; /* the parent's new fd is ours */
        _exit(write(back[1], &ok, 1) == 1 ? 0 : 2);
    }
    cf_ready();
    cf_wait();
    int fd = open("/dev/null", O_RDONLY);
    cf_sys(fd);
    cf_write_all(go[1], &fd, sizeof fd);
    char ok = 0;
    cf_check(cf_readable(back[0], 10) && read(back[0], &ok, 1) == 1, "the child did not answer");
    cf_check(ok == 'y', "the child does not see the fd its parent opened: they no longer share one table");
    cf_waitpid(c, 10, "the child");
    cf_pass();
}
