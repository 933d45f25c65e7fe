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
    cf_ready();
    cf_wait();
    pid_t self = getpid(), kernel_self = kp_kernel_pid();
    int wr;
    if (self == kernel_self) { /* (no table: the kernel's pids as they are) */
        pid_t v = vfork_cat(&wr), real = kp_only_child();
        cf_check(v == real, "vfork returned %d, the child's kernel pid is %d", (int)v, (int)real);
        kp_check_child("vfork", v, real, self, wr);
        cf_pass();
    }
    double until = cf_now() + 45;
    while (kp_next_is(self, until)) {
        pid_t v = vfork_cat(&wr), real = kp_only_child();
        if (real != self) { /* another process took it first: once more */
            kp_check_child("vfork", v, real, self, wr);
            continue;
        }
        cf_check(v != self, "vfork gave the child (kernel pid %d) the pid the process knows as "
                 "its own, %d", (int)real, (int)self);
        kp_check_child("vfork", v, real, self, wr);
        cf_pass();
    }
    cf_fail("no child got kernel pid %d (the process's old pid) within 45 s", (int)self);
}
