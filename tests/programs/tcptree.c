/* A server and its client in one tree, over a loopback TCP connection: the parent
 * listens, the child connects and sends numbers, the parent answers with their
 * squares, the child prints them.  Both ends are in the checkpoint, so the
 * connection must come back connected, with what was in flight. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    if (bind(l, (void *)&a, sizeof a) || listen(l, 1) || getsockname(l, (void *)&a, &alen))
        return 1;
    pid_t child = fork();
    if (child == 0) {
        close(l);
        int c = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(c, (void *)&a, sizeof a))
            _exit(2);
        for (long i = 1; i <= rounds; i++) {
            long sq;
            if (write(c, &i, sizeof i) != sizeof i || read_full(c, &sq, sizeof sq) < 0) {
                printf("connection lost at %ld\n", i);
                _exit(3);
            }
            printf("%ld %ld\n", i, sq);
            fflush(stdout);
            struct timespec ts = { 0, 30 * 1000000L };
            nanosleep(&ts, NULL);
        }
        _exit(0);
    }
    int s = accept(l, NULL, NULL);
    close(l);
    long v;
    while (read_full(s, &v, sizeof v) == 0) {
        long sq = v * v;
        struct timespec ts = { 0, 10 * 1000000L };
        nanosleep(&ts, NULL);
        if (write(s, &sq, sizeof sq) != sizeof sq)
            break;
    }
    int st;
    waitpid(child, &st, 0);
    printf("client exited %d\n", WEXITSTATUS(st));
    return 0;
}
