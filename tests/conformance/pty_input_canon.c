/* A pseudo-terminal pair in canonical mode (echo on, as a shell leaves it) with lines
 * typed on the master that the slave has not read yet: one ended by a carriage return
 * (ICRNL), one edited with an erase, an end of file on an empty line, and a line not
 * ended yet.  Afterwards each read gives one line as before (the EOF a read of 0), the
 * line not ended yet ends with what is typed next, the echo of the first typing is not
 * made twice, and the terminal still erases, translates and echoes. */
#include "conf.h"
#include <sys/ioctl.h>
#include <termios.h>

/* Reads the master until it has given exactly `want` (the echo of what was typed). */
static void expect_output(int m, const char *want, const char *when)
{
    char got[256];
    size_t n = 0, len = strlen(want);
    while (n < len) {
        cf_check(cf_readable(m, 5), "%s: the master gave '%.*s', expected '%s'", when, (int)n, got, want);
        ssize_t r = read(m, got + n, len - n);
        cf_check(r > 0, "%s: reading the master: %s", when, r < 0 ? strerror(errno) : "end of file");
        n += (size_t)r;
    }
    cf_check(!memcmp(got, want, len), "%s: the master gave '%.*s', expected '%s'", when, (int)len, got, want);
}

static void expect_line(int s, const char *want)
{
    char buf[64];
    cf_check(cf_readable(s, 5), "the slave has nothing to read, expected '%s'", want);
    ssize_t r = read(s, buf, sizeof buf);
    cf_check(r == (ssize_t)strlen(want) && !memcmp(buf, want, (size_t)r),
             "a read of the slave gave %zd bytes '%.*s', expected the line '%s'", r,
             (int)(r > 0 ? r : 0), buf, want);
}

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
    t.c_iflag |= ICRNL;
    t.c_oflag |= OPOST | ONLCR;
    t.c_lflag |= ICANON | ECHO | ECHOE | ISIG | IEXTEN;
    t.c_cc[VERASE] = 0x7f;
    t.c_cc[VEOF] = 0x04;
    cf_sys(tcsetattr(s, TCSANOW, &t));
    cf_write_all(m, "ab\r", 3);
    expect_output(m, "ab\r\n", "the first line's echo");
    cf_write_all(m, "x\x7f" "cd\n", 5);
    expect_output(m, "x\b \bcd\r\n", "the edited line's echo");
    cf_write_all(m, "\x04", 1);
    cf_write_all(m, "gh", 2);
    expect_output(m, "gh", "the unfinished line's echo");
    cf_ready();
    cf_wait();
    struct termios g;
    cf_sys(tcgetattr(s, &g));
    cf_check((g.c_lflag & (ICANON | ECHO | ISIG | IEXTEN)) == (ICANON | ECHO | ISIG | IEXTEN) &&
             (g.c_iflag & ICRNL) && (g.c_oflag & OPOST) && g.c_cc[VERASE] == 0x7f && g.c_cc[VEOF] == 0x04,
             "the terminal's settings changed: lflag %o iflag %o oflag %o erase %#x eof %#x", g.c_lflag,
             g.c_iflag, g.c_oflag, g.c_cc[VERASE], g.c_cc[VEOF]);
    expect_line(s, "ab\n");
    expect_line(s, "cd\n");
    expect_line(s, ""); /* the end of file typed on an empty line */
    /* the line not ended yet: ended now, with an erase of one of its own bytes */
    cf_write_all(m, "i\x7fj\r", 4);
    expect_output(m, "i\b \bj\r\n", "the echo after the restart (nothing echoed twice)");
    expect_line(s, "ghj\n");
    cf_pass();
}
