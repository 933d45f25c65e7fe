/* A child made by vfork() after a normal user's restart with new pids, whose kernel pid
 * is one the program knows as another process's (its own old pid): the pid vfork
 * returns must name that child, not the process itself, for kill() and a wait (the
 * child runs in the parent's memory until it execs: it cannot be made again as fork's
 * child is; Python's subprocess makes its children so).  Without the runtime's table
 * the pid returned is the kernel's. */
#include "known_pid.h"

/* cat reading a pipe (it ends when told); its pid as vfork returned it, and the pipe's
 * write end */
static pid_t vfork_cat(int *wr)
{
    int p[2];
    cf_sys(pipe(p));
    pid_t v = vfork();
    if (v == 0) {
        dup2(p[0], 0);
        close(p[1]);
        execl("/bin/cat", "cat", (char *)NULL);
        _exit(127);
    }
    cf_sys(v);
    close(p[0]);
    *wr = p[1];
    return v;
}

int main(void)
{
    kp_run("vfork", vfork_cat);
}
