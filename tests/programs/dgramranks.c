/* Two tasks of a Slurm step that wake each other with unix datagrams, as UCX's shared
 * memory transports do: each binds an unnamed unix datagram socket to a name the kernel
 * picks (autobind, an abstract name), writes it to DIR/addr.<rank> and reads the
 * other's.  Each iteration, each sends the other one datagram ("ITER HASH", its
 * running hash of what it received) and receives the one sent LAG iterations before,
 * so that about LAG datagrams from the other task wait in each socket at any moment.
 * Each writes "ITER GOT" per iteration to DIR/rank.<rank> and "rank R done HASH" on
 * stdout at the end (after the last LAG): a datagram lost, doubled or reordered, or one
 * whose sender's address (checked at each receive) is not the other task's, changes
 * the output or ends the task with exit 3.
 * With DGRAMRANKS_CMA set, each also reads the other's iteration count in its memory
 * by the pid the other said at its start (process_vm_readv, as UCX's CMA transport
 * does) after each receive while the other cannot have ended: it must be at least the
 * iteration of the datagram just received (else exit 4, naming what the call said).
 * usage: dgramranks DIR ITERS DELAY_MS */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define LAG 3

static volatile long progress; /* this task's iteration, read by the other (CMA) */

static void pause_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static void die(const char *what)
{
    fprintf(stderr, "dgramranks: %s: %s\n", what, strerror(errno));
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: dgramranks DIR ITERS DELAY_MS\n");
        return 2;
    }
    const char *dir = argv[1];
    int iters = atoi(argv[2]), delay = atoi(argv[3]);
    const char *r = getenv("SLURM_PROCID");
    int rank = r ? atoi(r) : 0, peer = !rank;
    int s = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un self = { .sun_family = AF_UNIX }, other;
    socklen_t slen = offsetof(struct sockaddr_un, sun_path), olen = 0;
    if (s < 0 || bind(s, (struct sockaddr *)&self, slen) < 0) /* autobind */
        die("socket");
    slen = sizeof self;
    if (getsockname(s, (struct sockaddr *)&self, &slen) < 0)
        die("getsockname");
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/addr.%d", dir, rank);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *a = fopen(tmp, "w");
    if (!a || fwrite(&self, 1, slen, a) != slen || fclose(a) || rename(tmp, path) < 0)
        die(path);
    snprintf(path, sizeof path, "%s/addr.%d", dir, peer);
    for (int i = 0; i < 3000 && !olen; i++) { /* the other task starts within 60 s */
        FILE *f = fopen(path, "r");
        if (f) {
            olen = (socklen_t)fread(&other, 1, sizeof other, f);
            fclose(f);
        } else {
            pause_ms(20);
        }
    }
    if (!olen)
        die("the other task's address");
    int cma = getenv("DGRAMRANKS_CMA") != NULL;
    pid_t peer_pid = 0;
    unsigned long long peer_at = 0;
    if (cma) { /* DIR/cma.RANK: "PID ADDRESS" of its iteration count */
        snprintf(path, sizeof path, "%s/cma.%d", dir, rank);
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        a = fopen(tmp, "w");
        if (!a || fprintf(a, "%d %llu\n", (int)getpid(), (unsigned long long)(uintptr_t)&progress) < 0 ||
            fclose(a) || rename(tmp, path) < 0)
            die(path);
        snprintf(path, sizeof path, "%s/cma.%d", dir, peer);
        for (int i = 0; i < 3000 && !peer_pid; i++) {
            FILE *f = fopen(path, "r");
            int p;
            if (f && fscanf(f, "%d %llu", &p, &peer_at) == 2)
                peer_pid = p;
            if (f)
                fclose(f);
            if (!peer_pid)
                pause_ms(20);
        }
        if (!peer_pid)
            die("the other task's pid");
    }
    snprintf(path, sizeof path, "%s/rank.%d", dir, rank);
    int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    if (out < 0)
        die(path);
    uint64_t hash = 1469598103934665603ULL;
    for (int i = 0; i < iters + LAG; i++) {
        char msg[64], got[64] = "-";
        if (i < iters) {
            int n = snprintf(msg, sizeof msg, "%d %016llx", i, (unsigned long long)hash);
            ssize_t w;
            while ((w = sendto(s, msg, (size_t)n, 0, (struct sockaddr *)&other, olen)) < 0 && errno == EINTR)
                ;
            if (w != n)
                die("sendto");
        }
        if (i >= LAG) {
            struct sockaddr_un from;
            socklen_t flen = sizeof from;
            ssize_t n;
            while ((n = recvfrom(s, got, sizeof got - 1, 0, (struct sockaddr *)&from, &flen)) < 0 &&
                   errno == EINTR)
                flen = sizeof from;
            if (n < 0)
                die("recvfrom");
            got[n] = 0;
            if (flen != olen || memcmp(&from, &other, olen)) {
                fprintf(stderr, "dgramranks: datagram %d came from another address\n", i - LAG);
                return 3;
            }
            for (ssize_t k = 0; k < n; k++)
                hash = (hash ^ (unsigned char)got[k]) * 1099511628211ULL;
            long theirs = -1;
            struct iovec here = { &theirs, sizeof theirs }, there = { (void *)(uintptr_t)peer_at, sizeof theirs };
            /* (before the last send the other cannot have ended: it waits for it) */
            if (cma && i < iters - 1 && (process_vm_readv(peer_pid, &here, 1, &there, 1, 0) != (ssize_t)sizeof theirs ||
                        theirs < i - LAG)) {
                fprintf(stderr, "dgramranks: the other task's count (pid %d) read at iteration %d: %ld (%s)\n",
                        (int)peer_pid, i, theirs, strerror(errno));
                return 4;
            }
        }
        dprintf(out, "%d %s\n", i, got);
        progress = i + 1;
        if (delay)
            pause_ms(delay);
    }
    printf("rank %d done %016llx\n", rank, (unsigned long long)hash);
    return 0;
}
