/* A child made by a bare clone() (a process of its own: no CLONE_VM, no CLONE_THREAD)
 * after a normal user's restart with new pids, whose kernel pid is one the program knows
 * as another process's (its own old pid): the pid clone() returns must name that child,
 * not the process itself, for kill() and a wait.  Without the runtime's table the pid
 * returned is the kernel's. */
#include "known_pid.h"
#include <sched.h>

static char child_stack[256 * 1024] __attribute__((aligned(16)));
static int pipe_ends[2];

static int run_cat(void *unused)
{
    (void)unused;
    dup2(pipe_ends[0], 0);
    close(pipe_ends[1]);
    execl("/bin/cat", "cat", (char *)NULL);
    _exit(127);
}

/* cat reading a pipe (it ends when told); its pid as clone() returned it, and the
 * pipe's write end */
static pid_t clone_cat(int *wr)
{
    cf_sys(pipe(pipe_ends));
    pid_t v = clone(run_cat, child_stack + sizeof child_stack, SIGCHLD, NULL);
    cf_sys(v);
    close(pipe_ends[0]);
    *wr = pipe_ends[1];
    return v;
}

int main(void)
{
    kp_run("clone", clone_cat);
}
