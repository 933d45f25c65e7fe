/* Pipes and a terminal that lead outside, on high fds as a job launcher leaves them
 * (a pipe on 251): the read end of a pipe with 5 bytes waiting in it (251), the write
 * end of another, non-blocking (252), a terminal (253); their other ends are held by
 * a process outside the checkpointed tree (double fork), and a child inside the tree
 * holds the same fds too.  The program goes on as it would: it reads the 5 bytes; then,
 * when it runs in another process (restarted: another pid, or another pid namespace),
 * it sees every end disconnected (end of file, EPIPE, a hung-up terminal), otherwise
 * still connected. */
#include "conf.h"

#include <poll.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#define IN 251
#define OUT 252
#define TTY 253

/* The process's start time, field 22 of /proc/self/stat (after "pid (comm) "). */
static int start_time(char *out, size_t len)
{
    char buf[1024];
    int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    if (fd >= 0)
        close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    for (int field = 2; p && field < 22; field++)
        p = strchr(p + 1, ' ');
    if (!p)
        return 0;
    snprintf(out, len, "%.*s", (int)strcspn(p + 1, " "), p + 1);
    return 1;
}

static void move_to(int fd, int to)
{
    cf_sys(dup2(fd, to));
    close(fd);
}

int main(void)
{
    int in[2], out[2], master, slave, quit[2];
    cf_sys(pipe(in));
    cf_sys(pipe(out));
    cf_sys(pipe(quit));
    cf_sys(openpty(&master, &slave, NULL, NULL, NULL));
    /* the other ends, in a process outside the tree (reparented away from us) */
    pid_t c = fork();
    cf_sys(c);
    if (c == 0) {
        if (fork() == 0) {
            close(in[0]), close(out[1]), close(slave), close(quit[1]);
            cf_write_all(in[1], "hello", 5);
            /* as long as the test's process group lives (killed with it), at most 200 s */
            for (int i = 0; i < 2000; i++)
                usleep(100000);
            _exit(0);
        }
        _exit(0);
    }
    cf_waitpid(c, 10, "the first child");
    close(in[1]), close(out[0]), close(master);
    move_to(in[0], IN);
    move_to(out[1], OUT);
    move_to(slave, TTY);
    cf_sys(fcntl(IN, F_SETFL, O_NONBLOCK));
    cf_sys(fcntl(OUT, F_SETFL, O_WRONLY | O_NONBLOCK));
    signal(SIGPIPE, SIG_IGN);
    /* a child of ours shares the three open files */
    pid_t k = fork();
    cf_sys(k);
    if (k == 0) {
        char b;
        close(quit[1]);
        _exit(read(quit[0], &b, 1) == 0 ? 0 : 1);
    }
    close(quit[0]);
    int nread = 0;
    for (int i = 0; i < 1000 && nread < 5; i++) { /* the 5 bytes are there (unread) */
        cf_sys(ioctl(IN, FIONREAD, &nread));
        if (nread < 5)
            usleep(10000);
    }
    cf_check(nread == 5, "the outside process did not write to the pipe");
    /* restarted: another process (its start time differs; its pid may read the same,
     * in a pid namespace of the restart's or through the runtime's pid map) */
    char before[32], after[32];
    cf_check(start_time(before, sizeof before), "cannot read /proc/self/stat");
    cf_ready();
    cf_wait();
    cf_check(start_time(after, sizeof after), "cannot read /proc/self/stat");
    int restarted = strcmp(before, after) != 0;

    struct stat st;
    cf_check(fstat(IN, &st) == 0 && S_ISFIFO(st.st_mode), "fd %d is no pipe any more", IN);
    cf_check(fstat(OUT, &st) == 0 && S_ISFIFO(st.st_mode), "fd %d is no pipe any more", OUT);
    /* (a hung-up terminal answers EIO to the ioctl behind isatty()) */
    cf_check(fstat(TTY, &st) == 0 && S_ISCHR(st.st_mode) && (isatty(TTY) || (restarted && errno == EIO)),
             "fd %d is no terminal any more (isatty: %s)", TTY, strerror(errno));
    cf_check((fcntl(IN, F_GETFL) & O_ACCMODE) == O_RDONLY, "fd %d is no read end", IN);
    cf_check((fcntl(OUT, F_GETFL) & (O_ACCMODE | O_NONBLOCK)) == (O_WRONLY | O_NONBLOCK),
             "fd %d: flags 0%o, expected a non-blocking write end", OUT, fcntl(OUT, F_GETFL));
    char buf[16];
    ssize_t n = read(IN, buf, sizeof buf);
    cf_check(n == 5 && !memcmp(buf, "hello", 5), "the 5 bytes waiting in the pipe: read gave %zd (%s)",
             n, n < 0 ? strerror(errno) : "");
    n = read(IN, buf, sizeof buf);
    ssize_t w = write(OUT, "x", 1);
    int werr = errno;
    if (restarted) {
        cf_check(n == 0, "the read end whose writer is gone: read gave %zd (%s), expected end of file",
                 n, n < 0 ? strerror(errno) : "data");
        cf_check(w < 0 && werr == EPIPE, "the write end whose reader is gone: write gave %zd (%s), "
                 "expected EPIPE", w, w < 0 ? strerror(werr) : "written");
        n = read(TTY, buf, sizeof buf);
        cf_check(n == 0 || (n < 0 && errno == EIO), "the hung-up terminal: read gave %zd (%s)", n,
                 n < 0 ? strerror(errno) : "data");
        w = write(TTY, "x", 1);
        cf_check(w < 0 && errno == EIO, "the hung-up terminal: write gave %zd (%s), expected EIO", w,
                 w < 0 ? strerror(errno) : "written");
    } else {
        cf_check(n < 0 && errno == EAGAIN, "the connected read end: read gave %zd (%s), expected "
                 "EAGAIN", n, n < 0 ? strerror(errno) : "end of file or data");
        cf_check(w == 1, "the connected write end: write gave %zd (%s)", w, strerror(werr));
        w = write(TTY, "x", 1);
        cf_check(w == 1, "the connected terminal: write gave %zd (%s)", w, strerror(errno));
    }
    close(quit[1]);
    cf_waitpid(k, 10, "the child sharing the fds");
    cf_pass();
}
