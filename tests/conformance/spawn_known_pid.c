/* A child made by posix_spawn() after a normal user's restart with new pids, whose
 * kernel pid is one the program knows as another process's (its own old pid): the pid
 * posix_spawn gives must name that child, not the process itself, for kill() and a wait
 * (glibc's posix_spawn makes it with clone(CLONE_VM | CLONE_VFORK): it cannot be made
 * again as fork's child is).  Without the runtime's table (no restart, or a new pid seen
 * as it is) the pid given is the kernel's. */
#include "known_pid.h"
#include <spawn.h>

extern char **environ;

/* cat reading a pipe (it ends when told); its pid as posix_spawn gave it, and the pipe's
 * write end */
static pid_t spawn_cat(int *wr)
{
    int p[2];
    cf_sys(pipe(p));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[0], 0);
    posix_spawn_file_actions_addclose(&fa, p[1]);
    char *argv[] = { "cat", NULL };
    pid_t v = -1;
    int rc = posix_spawn(&v, "/bin/cat", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    cf_check(rc == 0, "posix_spawn /bin/cat: %s", strerror(rc));
    close(p[0]);
    *wr = p[1];
    return v;
}

int main(void)
{
    kp_run("posix_spawn", spawn_cat);
}
