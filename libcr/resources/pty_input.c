/* What was typed on a pseudo-terminal (written to its master) that its reader has not
 * read yet.  Taken at the checkpoint through a new open of the slave: in canonical mode
 * line by line as a read() gives them (then the line not ended yet, seen only once the
 * terminal is made non-canonical for a moment); otherwise every byte.  Typed again into
 * the master (at once for the program that goes on; into the new pair at restart) with
 * the line discipline set to store the bytes as they are: no signals, no input
 * translation, no erase or kill characters, and in canonical mode every byte of a line
 * escaped with LNEXT but the character that ended it (an EOF: the terminal's VEOF
 * again, which stores nothing).  The echo is on meanwhile, output processing off: the
 * raw echo read back from the master tells when the line discipline has taken every
 * byte (it works after the write returns), and is thrown away (the first typing
 * echoed already).  Then the terminal gets its settings back.
 *
 * The stored form (the record's struct ctx_pty_input, then len bytes): in canonical
 * mode nlines lines, each a uint32_t length then what read() gave, then the line not
 * ended yet; otherwise the bytes as they are.  Runs while the program is frozen: no
 * malloc, no stdio. */
#define _GNU_SOURCE
#include "resources.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define ECHO_WAIT_MS 5000
#define TTY_LINE_MAX 4096 /* N_TTY_BUF_SIZE: the most a terminal holds for its reader */

static uint64_t ms_now(void)
{
    struct timespec ts; /* (by system call: the program may have unmapped its vdso) */
    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A character of t that ends a canonical line and is stored with it (EOF is not). */
static int ends_line(const struct termios *t, unsigned char c)
{
    return c == '\n' || (t->c_cc[VEOL] && c == t->c_cc[VEOL]) ||
           ((t->c_lflag & IEXTEN) && t->c_cc[VEOL2] && c == t->c_cc[VEOL2]);
}

/* The settings the bytes are typed again under (see the top). */
static void typing_settings(const struct termios *t, struct termios *p, unsigned char *lnext)
{
    *p = *t;
    p->c_iflag &= ~(tcflag_t)(ISTRIP | INLCR | IGNCR | ICRNL | IUCLC | PARMRK);
    p->c_oflag &= ~(tcflag_t)OPOST;
    p->c_lflag |= ECHO;
    p->c_lflag &= ~(tcflag_t)(ECHOCTL | ECHOPRT | ISIG | FLUSHO);
    *lnext = 0;
    if (!(t->c_lflag & ICANON))
        return;
    /* (a disabled character, 0, is never special: NUL is not in the discipline's map) */
    p->c_cc[VERASE] = p->c_cc[VKILL] = p->c_cc[VWERASE] = p->c_cc[VREPRINT] = 0;
    for (unsigned char c = 0x16; c < 0x20 && !*lnext; c++) /* ^V, or the next free one */
        if (c != t->c_cc[VEOF] && c != t->c_cc[VEOL] && c != t->c_cc[VEOL2])
            *lnext = c;
    p->c_lflag |= IEXTEN;
    p->c_cc[VLNEXT] = *lnext;
}

/* Writes len bytes to the master, waiting (bounded by deadline) while it is full. */
static int write_master(int master, const char *b, size_t len, uint64_t deadline)
{
    while (len) {
        struct pollfd pf = { master, POLLOUT, 0 };
        uint64_t now = ms_now();
        if (now >= deadline)
            return -ETIMEDOUT;
        int r = poll(&pf, 1, (int)(deadline - now));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r < 0 ? -errno : -ETIMEDOUT;
        ssize_t w = write(master, b, len);
        if (w < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (w <= 0)
            return w < 0 ? -errno : -EIO;
        b += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Types one line (canonical): each byte after lnext, but its last when it ended it (an
 * EOF-ended one: VEOF after it).  The bytes of echo that makes, added to *echo. */
static int type_line(int master, const struct termios *t, unsigned char lnext, const char *s,
                     size_t n, int whole, uint64_t deadline, size_t *echo)
{
    char out[512];
    size_t k = 0;
    int ended = whole && n && ends_line(t, (unsigned char)s[n - 1]);
    size_t body = ended ? n - 1 : n;
    for (size_t i = 0; i < body; i++) {
        if (k + 2 > sizeof out) {
            int rc = write_master(master, out, k, deadline);
            if (rc < 0)
                return rc;
            k = 0;
        }
        out[k++] = (char)lnext;
        out[k++] = s[i];
    }
    if (ended)
        out[k++] = s[n - 1];
    else if (whole)
        out[k++] = (char)t->c_cc[VEOF]; /* (echoes nothing) */
    *echo += body + (size_t)ended;
    return write_master(master, out, k, deadline);
}

/* Reads and drops `want` bytes of echo from the master (a packet-mode master's reads
 * start with a status byte). */
static int drain_echo(int master, size_t want, uint64_t deadline)
{
    int packet = 0;
    ioctl(master, TIOCGPKT, &packet);
    char sink[1024];
    while (want) {
        struct pollfd pf = { master, POLLIN, 0 };
        uint64_t now = ms_now();
        if (now >= deadline)
            return -ETIMEDOUT;
        int r = poll(&pf, 1, (int)(deadline - now));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r < 0 ? -errno : -ETIMEDOUT;
        if (!(pf.revents & POLLIN))
            return -EIO;
        ssize_t got = read(master, sink, want + (packet ? 1 : 0) < sizeof sink ? want + (packet ? 1 : 0)
                                                                                : sizeof sink);
        if (got < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (got <= 0)
            return got < 0 ? -errno : -EIO;
        size_t echoed = (size_t)got;
        if (packet) /* a data packet is 0 then its bytes; a status one, one byte */
            echoed = sink[0] == 0 ? echoed - 1 : 0;
        want -= echoed < want ? echoed : want;
    }
    return 0;
}

/* Job control is kept out of the way: a terminal that is the caller's own, its group in
 * the background, would stop that group at a change of its settings (SIGTTOU), which
 * blocked is let be (a read then says EIO rather than SIGTTIN: refused, not stopped). */
static void hold_job_signals(sigset_t *old)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTTOU);
    sigaddset(&set, SIGTTIN);
    pthread_sigmask(SIG_BLOCK, &set, old);
}

static int typing(int master, const struct termios *t, const char *data, size_t len, uint32_t nlines);

int pty_input_type(int master, const struct termios *t, const char *data, size_t len, uint32_t nlines)
{
    sigset_t old;
    hold_job_signals(&old);
    int rc = typing(master, t, data, len, nlines);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

static int typing(int master, const struct termios *t, const char *data, size_t len, uint32_t nlines)
{
    int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
    if (slave < 0)
        return -errno;
    struct termios p;
    unsigned char lnext;
    typing_settings(t, &p, &lnext);
    uint64_t deadline = ms_now() + ECHO_WAIT_MS;
    size_t echo = 0;
    int rc = tcsetattr(slave, TCSANOW, &p) < 0 ? -errno : 0;
    if (rc == 0 && !(t->c_lflag & ICANON)) {
        rc = write_master(master, data, len, deadline);
        echo = len;
    }
    size_t at = 0;
    for (uint32_t i = 0; rc == 0 && (t->c_lflag & ICANON) && i <= nlines; i++) {
        uint32_t n;
        if (i < nlines) {
            memcpy(&n, data + at, sizeof n);
            at += sizeof n;
        } else {
            n = (uint32_t)(len - at); /* the line not ended yet */
        }
        rc = type_line(master, t, lnext, data + at, n, i < nlines, deadline, &echo);
        at += n;
    }
    if (rc == 0)
        rc = drain_echo(master, echo, deadline);
    if (tcsetattr(slave, TCSANOW, t) < 0 && rc == 0)
        rc = -errno;
    close(slave);
    return rc;
}

static ssize_t take(int master, const struct termios *t, char *buf, size_t cap, uint32_t *nlines,
                    const char **why);

ssize_t pty_input_take(int master, const struct termios *t, char *buf, size_t cap, uint32_t *nlines,
                       const char **why)
{
    sigset_t old;
    hold_job_signals(&old);
    ssize_t rc = take(master, t, buf, cap, nlines, why);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

static ssize_t take(int master, const struct termios *t, char *buf, size_t cap, uint32_t *nlines,
                    const char **why)
{
    *nlines = 0;
    *why = "";
    int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
    if (slave < 0)
        return 0; /* (exclusive, TIOCEXCL: nothing can be seen of its input, as before) */
    int typed = 0, canonical = (t->c_lflag & ICANON) != 0;
    ioctl(slave, FIONREAD, &typed);
    /* the echo that tells they are typed again needs the output to flow */
    struct pollfd pf = { slave, POLLOUT, 0 };
    int ready = poll(&pf, 1, 0);
    int rc = 0;
    if (ready == 1 && (pf.revents & (POLLHUP | POLLERR))) {
        close(slave); /* hung up: nothing to read */
        return 0;
    }
    if (!typed && !canonical) { /* (canonical: a line not ended yet is not counted) */
        close(slave);
        return 0;
    }
    if (t->c_lflag & EXTPROC) {
        *why = "its line discipline is in external processing mode (EXTPROC)";
        rc = typed > 0 ? -ENOTSUP : 0;
    } else if (!(ready == 1 && (pf.revents & POLLOUT))) {
        /* (nothing counted: a line not ended yet, if any, is not looked for) */
        *why = "its output is stopped (^S, or tcflow) or full, which the echo that tells they "
               "are typed again needs (let it flow, ^Q, and checkpoint then)";
        rc = typed > 0 ? -EBUSY : 0;
        if (!typed) {
            close(slave);
            return 0;
        }
    } else if (typed >= TTY_LINE_MAX - 1 - 64) {
        /* full: more may wait behind, which would come before what is typed again */
        *why = "its input buffer is full";
        rc = -EBUSY;
    }
    if (rc < 0 || (t->c_lflag & EXTPROC)) {
        close(slave);
        return rc;
    }
    size_t len = 0;
    int toggled = 0;
    for (;;) { /* a canonical line per read (0: an EOF on an empty line); else all */
        char *to = buf + len + (canonical ? sizeof(uint32_t) : 0);
        size_t room = cap - len - (canonical ? sizeof(uint32_t) : 0);
        if (cap < len + (canonical ? sizeof(uint32_t) : 0) + TTY_LINE_MAX) {
            *why = "more than can be saved";
            rc = -E2BIG;
            break;
        }
        ssize_t n = read(slave, to, room < TTY_LINE_MAX ? room : TTY_LINE_MAX);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN && canonical && !toggled) {
            /* the line not ended yet: readable once the terminal is not canonical */
            struct termios raw = *t;
            raw.c_lflag &= ~(tcflag_t)ICANON;
            raw.c_cc[VMIN] = 0;
            raw.c_cc[VTIME] = 0;
            if (tcsetattr(slave, TCSANOW, &raw) < 0) {
                *why = "cannot read the line not ended yet";
                rc = -errno;
                break;
            }
            toggled = 1;
            char *rest = buf + len;
            ssize_t m;
            do
                m = read(slave, rest, TTY_LINE_MAX);
            while (m < 0 && errno == EINTR);
            if (m < 0 && errno != EAGAIN) {
                *why = "cannot read the line not ended yet";
                rc = -errno;
                break;
            }
            len += m > 0 ? (size_t)m : 0;
            break;
        }
        if (n < 0 && errno == EAGAIN)
            break;
        if (n < 0) {
            *why = "cannot read them";
            rc = -errno;
            break;
        }
        if (!canonical) {
            len += (size_t)n;
            continue;
        }
        if (*nlines >= TTY_LINE_MAX) { /* (each holds a place in the buffer) */
            *why = "more lines than a terminal holds";
            rc = -EIO;
            break;
        }
        uint32_t l = (uint32_t)n;
        memcpy(buf + len, &l, sizeof l);
        len += sizeof l + (size_t)n;
        (*nlines)++;
    }
    close(slave);
    /* back where they were, for the program that goes on (and when the checkpoint
     * fails); the settings too */
    int put = len || toggled ? pty_input_type(master, t, buf, len, *nlines) : 0;
    if (put < 0) {
        *why = "cannot type them again: the program lost them";
        return put;
    }
    return rc < 0 ? rc : (ssize_t)len;
}

int valid_pty_input(const struct termios *t, const char *data, size_t len, uint32_t nlines)
{
    if (!(t->c_lflag & ICANON))
        return nlines == 0 && len <= TTY_LINE_MAX;
    size_t at = 0, bytes = 0;
    for (uint32_t i = 0; i < nlines; i++) {
        uint32_t n;
        if (len - at < sizeof n)
            return 0;
        memcpy(&n, data + at, sizeof n);
        at += sizeof n;
        if (n > len - at || n >= TTY_LINE_MAX)
            return 0;
        at += n;
        bytes += n;
    }
    return len - at < TTY_LINE_MAX && bytes + (len - at) <= TTY_LINE_MAX;
}
