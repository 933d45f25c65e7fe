/* A minimal tracer, as a debugger or strace would be: runs PROGRAM traced (it asks
 * to be, so no ptrace permission is needed), passes every signal on, and exits as it
 * exits.  The checkpoint tests use it to check BLCR's --ptraced-* and --ptracer-*. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: tracer PROGRAM [ARGS...]\n");
        return 2;
    }
    pid_t child = fork();
    if (child < 0)
        return 1;
    if (child == 0) {
        ptrace(PTRACE_TRACEME, 0, NULL, NULL);
        execvp(argv[1], argv + 1);
        _exit(127);
    }
    for (;;) {
        int status;
        if (waitpid(child, &status, 0) < 0)
            return 1;
        if (WIFEXITED(status))
            return WEXITSTATUS(status);
        if (WIFSIGNALED(status))
            return 128 + WTERMSIG(status);
        int sig = WIFSTOPPED(status) ? WSTOPSIG(status) : 0;
        /* the SIGTRAP of each exec is ours; any other signal goes on to the program */
        ptrace(PTRACE_CONT, child, NULL, (void *)(long)(sig == SIGTRAP ? 0 : sig));
    }
}
