/* Two tasks of a Slurm step joined by one plain TCP connection, for the step
 * connection tests: rank 0 listens (on 127.0.0.1, any port, which it writes to
 * DIR/port), rank 1 connects.  Rank 1 sends ITERS chunks of 1500 bytes, one every
 * DELAY_MS; rank 0 reads 1000 bytes every DELAY_MS, so that data waits in its queue,
 * and answers each read with 8 bytes of its running hash; rank 1 reads one answer per
 * chunk once two are out, and the rest at the end.  Each writes "ITER HASH" per
 * iteration to DIR/rank.<rank> and "rank R done HASH" on stdout at the end: a byte
 * lost, doubled or reordered in either direction changes every later line.
 * With TCPPAIR_SHARE set, both ranks first map DIR/share shared, then rank 0 deletes
 * it (memory the two tasks share that lives only while mapped).
 * With TCPPAIR_FLOOD set, rank 1 reads no answer before it has sent everything (its
 * data then waits in both buffers while rank 0 reads slowly).
 * With TCPPAIR_PMIX set, it first connects to the PMIx server PMIX_SERVER_URI2 names
 * (NAME;tcp4://IP:PORT), as a PMIx client would, and keeps the connection.
 * With PMI_FD (a step's PMI link), it first makes its PMI 1.1 init there as MPICH's
 * PMI client does (one line, the answer read in one read()), and at the end says
 * "finalize rank R" there and prints the line that answers as "pmi: ANSWER".  With
 * TCPPAIR_PMI_UNREAD set, it says "ping" there after its init and leaves the answer
 * unread (a PMI message in flight at any checkpoint).
 * usage: tcppair DIR ITERS DELAY_MS */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 1500
#define READ 1000

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdULL;
}

static void pause_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static int full(int s, void *buf, size_t len, int out)
{
    char *p = buf;
    while (len) {
        ssize_t n = out ? write(s, p, len) : read(s, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            perror(out ? "write" : "read");
            return -1;
        }
        p += n, len -= (size_t)n;
    }
    return 0;
}

static void line(int fd, long it, uint64_t h)
{
    char b[64];
    int n = snprintf(b, sizeof b, "%ld %016llx\n", it, (unsigned long long)h);
    if (write(fd, b, (size_t)n) != n)
        exit(1);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: tcppair DIR ITERS DELAY_MS\n");
        return 2;
    }
    const char *r = getenv("SLURM_PROCID");
    int rank = r ? atoi(r) : 0;
    long iters = atol(argv[2]), delay = atol(argv[3]);
    char path[4096], port_path[4096];
    snprintf(path, sizeof path, "%s/rank.%d", argv[1], rank);
    snprintf(port_path, sizeof port_path, "%s/port", argv[1]);
    int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
        perror(path);
        return 1;
    }
    uint64_t h = 1469598103934665603ULL + (uint64_t)rank;
    int one = 1;
    const char *pmi = getenv("PMI_FD");
    if (pmi) {
        static const char init[] = "cmd=init pmi_version=1 pmi_subversion=1\n";
        char ans[256];
        ssize_t got = 0, k = 0;
        if (full(atoi(pmi), (char *)init, sizeof init - 1, 1) < 0)
            return 1;
        while (got < (ssize_t)sizeof ans - 1 && (!got || ans[got - 1] != '\n') &&
               (k = read(atoi(pmi), ans + got, sizeof ans - 1 - (size_t)got)) > 0)
            got += k;
        ans[got] = 0;
        if (k <= 0 || !strstr(ans, " rc=0 ")) {
            fprintf(stderr, "PMI init: %s%s\n", ans, k < 0 ? strerror(errno) : "");
            return 1;
        }
        if (getenv("TCPPAIR_PMI_UNREAD") && full(atoi(pmi), "ping\n", 5, 1) < 0)
            return 1;
    }
    const char *uri = getenv("PMIX_SERVER_URI2"), *tcp4 = uri ? strstr(uri, "tcp4://") : NULL;
    if (getenv("TCPPAIR_PMIX")) {
        struct sockaddr_in a = { .sin_family = AF_INET };
        char ip[32] = "";
        unsigned port = 0;
        int s = socket(AF_INET, SOCK_STREAM, 0);
        if (!tcp4 || sscanf(tcp4 + 7, "%31[0-9.]:%u", ip, &port) != 2 || inet_pton(AF_INET, ip, &a.sin_addr) != 1 ||
            (a.sin_port = htons((uint16_t)port), s < 0) || connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
            perror("PMIX_SERVER_URI2");
            return 1;
        }
    }
    if (getenv("TCPPAIR_SHARE")) {
        char share[4200], mark[4200];
        struct stat st;
        snprintf(share, sizeof share, "%s/share", argv[1]);
        snprintf(mark, sizeof mark, "%s/mapped", argv[1]);
        int fd = -1;
        if (rank == 0 && (fd = open(share, O_RDWR | O_CREAT, 0600)) >= 0 && ftruncate(fd, 4096) < 0)
            fd = -1;
        for (int i = 0; i < 3000 && rank != 0 && (fd = open(share, O_RDWR)) < 0; i++)
            pause_ms(20);
        volatile char *mem = fd < 0 ? MAP_FAILED : mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (mem == MAP_FAILED) {
            perror(share);
            return 1;
        }
        mem[rank] = 1;
        if (rank != 0 && (fd = open(mark, O_WRONLY | O_CREAT, 0600)) < 0)
            return 1;
        for (int i = 0; i < 3000 && rank == 0 && stat(mark, &st) < 0; i++)
            pause_ms(20);
        if (rank == 0)
            unlink(share);
    }
    if (rank == 0) {
        int l = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t alen = sizeof a;
        if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 1) < 0 ||
            getsockname(l, (struct sockaddr *)&a, &alen) < 0) {
            perror("listen");
            return 1;
        }
        char tmp[4200];
        snprintf(tmp, sizeof tmp, "%s.tmp", port_path);
        FILE *f = fopen(tmp, "w");
        if (!f || fprintf(f, "%u\n", ntohs(a.sin_port)) < 0 || fclose(f) || rename(tmp, port_path)) {
            perror(port_path);
            return 1;
        }
        int s = accept(l, NULL, NULL);
        if (s < 0) {
            perror("accept");
            return 1;
        }
        close(l);
        setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        long reads = iters * CHUNK / READ;
        for (long it = 1; it <= reads; it++) {
            unsigned char b[READ];
            if (full(s, b, sizeof b, 0) < 0)
                return 1;
            for (int i = 0; i < READ; i++)
                h = mix(h, b[i]);
            if (full(s, &h, sizeof h, 1) < 0)
                return 1;
            line(out, it, h);
            pause_ms(delay);
        }
        close(s);
    } else {
        int port = 0;
        for (int i = 0; i < 3000 && port == 0; i++) {
            FILE *f = fopen(port_path, "r");
            if (f) {
                if (fscanf(f, "%d", &port) != 1)
                    port = 0;
                fclose(f);
            }
            if (!port)
                pause_ms(20);
        }
        int s = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        if (!port || s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
            perror("connect");
            return 1;
        }
        setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        long answers = iters * CHUNK / READ, got = 0;
        for (long it = 1; it <= iters; it++) {
            unsigned char b[CHUNK];
            for (int i = 0; i < CHUNK; i++)
                b[i] = (unsigned char)mix((uint64_t)it, (uint64_t)i);
            if (full(s, b, sizeof b, 1) < 0)
                return 1;
            if (it > 2 && !getenv("TCPPAIR_FLOOD")) {
                uint64_t v;
                if (full(s, &v, sizeof v, 0) < 0)
                    return 1;
                h = mix(h, v);
                got++;
            }
            line(out, it, h);
            if (!getenv("TCPPAIR_FLOOD"))
                pause_ms(delay);
        }
        for (; got < answers; got++) {
            uint64_t v;
            if (full(s, &v, sizeof v, 0) < 0)
                return 1;
            h = mix(h, v);
        }
        close(s);
    }
    printf("rank %d done %016llx\n", rank, (unsigned long long)h);
    if (pmi) {
        char msg[64], ans[256];
        int fd = atoi(pmi), n = snprintf(msg, sizeof msg, "finalize rank %d\n", rank);
        ssize_t got = 0, k;
        if (full(fd, msg, (size_t)n, 1) < 0)
            return 1;
        while (got < (ssize_t)sizeof ans - 1 && (k = read(fd, ans + got, 1)) == 1 && ans[got] != '\n')
            got++;
        if (k != 1) {
            perror("PMI_FD");
            return 1;
        }
        ans[got] = 0;
        printf("pmi: %s\n", ans);
    }
    return 0;
}
