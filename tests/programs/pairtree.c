/* A parent and its child talking over a unix socket pair: the parent sends numbers,
 * the child answers with their squares, the parent prints each answer.  Used to
 * check that a pair whose ends are in two processes of a tree comes back connected,
 * with what was queued in it. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void pause_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static int read_full(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len) {
        ssize_t n = read(fd, p, len);
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 60;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        return 1;
    pid_t child = fork();
    if (child == 0) {
        close(sv[0]);
        long v;
        while (read_full(sv[1], &v, sizeof v) == 0) {
            long sq = v * v;
            pause_ms(20);
            if (write(sv[1], &sq, sizeof sq) != sizeof sq)
                _exit(2);
        }
        _exit(0);
    }
    close(sv[1]);
    for (long i = 1; i <= rounds; i++) {
        long v = i, sq;
        /* two in flight: one is always queued somewhere */
        if (write(sv[0], &v, sizeof v) != sizeof v)
            return 3;
        if (read_full(sv[0], &sq, sizeof sq) < 0) {
            perror("read");
            return 4;
        }
        printf("%ld %ld\n", i, sq);
        fflush(stdout);
        pause_ms(30);
    }
    close(sv[0]);
    int st;
    waitpid(child, &st, 0);
    printf("child exited %d\n", WEXITSTATUS(st));
    return 0;
}
