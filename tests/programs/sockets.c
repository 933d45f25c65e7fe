/* Sockets of every policy at once: a TCP connection to a server outside the process
 * (restored reset: ECONNRESET, its fd number kept), a unix socket pair with data
 * queued in it (restored connected, with the data), a listening TCP socket (bound
 * again to its port: a client can connect after the restart).
 * usage: sockets SERVER_PORT LISTEN_PORT STEPS */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int tcp(int port, int listening)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (listening ? bind(s, (void *)&a, sizeof a) || listen(s, 8) : connect(s, (void *)&a, sizeof a)) {
        perror(listening ? "listen" : "connect");
        exit(1);
    }
    return s;
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    int steps = atoi(argv[3]);
    int client = tcp(atoi(argv[1]), 0);
    char buf[256];
    ssize_t n = read(client, buf, sizeof buf - 1);
    printf("server says %.*s", (int)(n > 0 ? n : 0), buf);
    int lst = tcp(atoi(argv[2]), 1);
    fcntl(lst, F_SETFL, O_NONBLOCK);
    int sp[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sp);
    unsigned long hash = 5381;
    for (int s = 0; s < steps; s++) {
        int m = snprintf(buf, sizeof buf, "message %d\n", s);
        if (write(sp[0], buf, (size_t)m) != m)
            return 1;
        if (s % 2) { /* read half as often as written: data waits in the pair */
            n = read(sp[1], buf, 12);
            for (ssize_t i = 0; i < n; i++)
                hash = hash * 33 + (unsigned char)buf[i];
        }
        printf("step %d hash %lu\n", s, hash);
        int c = accept(lst, NULL, NULL);
        if (c >= 0) {
            n = read(c, buf, sizeof buf - 1);
            printf("accepted: %.*s", (int)(n > 0 ? n : 0), buf);
            close(c);
        }
        if (s == steps - 3) {
            n = recv(client, buf, sizeof buf, MSG_DONTWAIT);
            printf("client: %s\n", n < 0 ? strerrorname_np(errno) : n == 0 ? "EOF" : "data");
            int probe = open("/dev/null", O_RDONLY);
            printf("fd reuse: %s\n", probe == client ? "YES" : "no");
            close(probe);
        }
        fflush(stdout);
        struct timespec ts = { 0, 100 * 1000000L };
        nanosleep(&ts, NULL);
    }
    return 0;
}
