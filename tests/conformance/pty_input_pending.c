/* A pseudo-terminal pair in raw mode with bytes typed on the master (written to it)
 * that its slave has not read yet: read after the restart as they were.  (Refused:
 * KNOWN.) */
#include "conf.h"
#include <sys/ioctl.h>
#include <termios.h>

int main(void)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    cf_sys(m);
    cf_sys(grantpt(m));
    cf_sys(unlockpt(m));
    int s = open(ptsname(m), O_RDWR | O_NOCTTY);
    cf_sys(s);
    struct termios t;
    cf_sys(tcgetattr(s, &t));
    cfmakeraw(&t);
    t.c_cc[VMIN] = 1;
    cf_sys(tcsetattr(s, TCSANOW, &t));
    struct winsize ws = { 33, 101, 0, 0 };
    cf_sys(ioctl(s, TIOCSWINSZ, &ws));
    cf_write_all(m, "raw\x03keys", 8);
    cf_check(cf_readable(s, 5), "the slave has nothing to read");
    cf_ready();
    cf_wait();
    struct termios g;
    cf_sys(tcgetattr(s, &g));
    cf_check(!(g.c_lflag & (ICANON | ECHO | ISIG)) && !(g.c_oflag & OPOST) && (g.c_cflag & CS8) == CS8,
             "the slave is no longer raw: lflag %o oflag %o", g.c_lflag, g.c_oflag);
    struct winsize w;
    cf_sys(ioctl(s, TIOCGWINSZ, &w));
    cf_check(w.ws_row == 33 && w.ws_col == 101, "window: expected 33x101, got %ux%u", w.ws_row, w.ws_col);
    char buf[8];
    cf_check(cf_readable(s, 5), "the typed bytes are gone");
    cf_read_all(s, buf, 8, "the slave");
    cf_check(!memcmp(buf, "raw\x03keys", 8), "the slave read other bytes");
    cf_write_all(s, "out\n", 4);
    cf_check(cf_readable(m, 5), "the master does not see what the slave wrote");
    cf_read_all(m, buf, 4, "the master");
    cf_check(!memcmp(buf, "out\n", 4), "raw output was changed: got %02x %02x %02x %02x", buf[0], buf[1], buf[2], buf[3]);
    cf_pass();
}
