/* A child leads a new session whose controlling terminal is a pseudo-terminal the
 * parent holds the master of, in the foreground group: after the restart the child
 * still has it as its controlling terminal (/dev/tty opens, tcgetsid is its session,
 * the foreground group is its own) and a line typed on the master reaches it. */
#include "conf.h"
#include <sys/ioctl.h>
#include <termios.h>

int main(void)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    cf_sys(m);
    cf_sys(grantpt(m));
    cf_sys(unlockpt(m));
    char name[64];
    cf_check(ptsname_r(m, name, sizeof name) == 0, "ptsname_r failed");
    int go[2], back[2];
    cf_sys(pipe(go));
    cf_sys(pipe(back));
    pid_t c = fork();
    cf_sys(c);
    if (c == 0) {
        char msg[200] = "ok";
        setsid();
        int s = open(name, O_RDWR); /* the first terminal a session leader opens */
        if (s < 0 || write(back[1], "r", 1) != 1)
            _exit(1);
        char b;
        if (read(go[0], &b, 1) != 1)
            _exit(2);
        int t = open("/dev/tty", O_RDWR | O_NOCTTY);
        if (t < 0)
            snprintf(msg, sizeof msg, "/dev/tty: %s (no controlling terminal)", strerror(errno));
        else if (tcgetsid(s) != getsid(0))
            snprintf(msg, sizeof msg, "tcgetsid %d, its session %d", (int)tcgetsid(s), (int)getsid(0));
        else if (tcgetpgrp(s) != getpgrp())
            snprintf(msg, sizeof msg, "foreground group %d, its group %d", (int)tcgetpgrp(s), (int)getpgrp());
        else {
            char line[16] = "";
            ssize_t n = read(s, line, sizeof line - 1);
            if (n != 6 || memcmp(line, "typed\n", 6))
                snprintf(msg, sizeof msg, "read %zd bytes from the terminal, expected 'typed'", n);
        }
        if (write(back[1], msg, strlen(msg)) < 0)
            _exit(3);
        _exit(0);
    }
    char b;
    cf_check(cf_readable(back[0], 10) && read(back[0], &b, 1) == 1, "the child did not open its terminal");
    cf_ready();
    cf_wait();
    cf_write_all(go[1], "g", 1);
    cf_write_all(m, "typed\n", 6);
    char msg[200] = "";
    cf_check(cf_readable(back[0], 10), "the child did not answer");
    ssize_t n = read(back[0], msg, sizeof msg - 1);
    msg[n > 0 ? n : 0] = 0;
    cf_check(!strcmp(msg, "ok"), "the child: %s", msg);
    cf_waitpid(c, 10, "the child");
    cf_pass();
}
