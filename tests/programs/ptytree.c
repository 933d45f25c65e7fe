/* A terminal program under a pseudo-terminal of its own: the parent holds the
 * master and copies what comes out of it to stdout; the child leads a session whose
 * controlling terminal is the slave, and writes numbered lines, checking each time
 * that its stdout is a terminal and that /dev/tty opens. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int lines = argc > 1 ? atoi(argv[1]) : 40;
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0)
        return 1;
    const char *name = ptsname(m);
    pid_t child = fork();
    if (child == 0) {
        setsid();
        int s = open(name, O_RDWR); /* a session leader's first terminal: its controlling one */
        if (s < 0)
            _exit(2);
        dup2(s, 0), dup2(s, 1), dup2(s, 2);
        if (s > 2)
            close(s);
        for (int i = 1; i <= lines; i++) {
            int t = open("/dev/tty", O_RDWR);
            printf("line %d tty %s ctty %s\n", i, isatty(1) ? "yes" : "no", t >= 0 ? "yes" : "no");
            fflush(stdout);
            if (t >= 0)
                close(t);
            struct timespec ts = { 0, 50 * 1000 * 1000 };
            nanosleep(&ts, NULL);
        }
        _exit(0);
    }
    char buf[4096];
    ssize_t n;
    while ((n = read(m, buf, sizeof buf)) > 0) /* EIO once the child is gone */
        if (write(1, buf, (size_t)n) != n)
            return 3;
    int st;
    waitpid(child, &st, 0);
    printf("child exited %d\n", WEXITSTATUS(st));
    return 0;
}
