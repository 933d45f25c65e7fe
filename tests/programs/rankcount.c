/* One rank of a Slurm step for the restart tests: counts STEPS steps, DELAY_MS apart,
 * through a rank-dependent recurrence kept in the heap, and writes one line per step
 * to DIR/rank.<SLURM_PROCID> (an fd kept open across checkpoints); at the end prints
 * "rank R done VALUE" on stdout.  The output depends on the rank, so a task restarted
 * from another rank's image shows.
 * With RANKCOUNT_BARE=R, rank R runs without the slurm-cr runtime (it execs itself
 * again without LD_PRELOAD): a task that cannot be checkpointed.
 * With RANKCOUNT_BIG=R:MIB, rank R also holds MIB MiB of written memory, so that its
 * checkpoint takes a while (a node can be made to fail in the middle of it).
 * With RANKCOUNT_STEPS=R:N, rank R counts N steps only (it ends before the others). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

unsigned char *rankcount_ballast; /* global: the compiler must keep its stores */

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: rankcount DIR STEPS DELAY_MS\n");
        return 2;
    }
    const char *r = getenv("SLURM_PROCID"), *bare = getenv("RANKCOUNT_BARE");
    int rank = r ? atoi(r) : 0;
    if (bare && atoi(bare) == rank && getenv("LD_PRELOAD")) {
        unsetenv("LD_PRELOAD");
        execv("/proc/self/exe", argv);
        perror("execv");
        return 1;
    }
    const char *big = getenv("RANKCOUNT_BIG");
    if (big && atoi(big) == rank && strchr(big, ':')) {
        size_t len = (size_t)atol(strchr(big, ':') + 1) << 20;
        unsigned char *mem = rankcount_ballast = malloc(len);
        if (!mem) {
            perror("malloc");
            return 1;
        }
        for (size_t i = 0; i < len; i++) /* not zero: every page is written out */
            mem[i] = (unsigned char)(i * 131 + (size_t)rank);
    }
    int steps = atoi(argv[2]);
    const char *mine = getenv("RANKCOUNT_STEPS");
    if (mine && atoi(mine) == rank && strchr(mine, ':'))
        steps = atoi(strchr(mine, ':') + 1);
    long delay_ms = atol(argv[3]);
    char path[4096];
    snprintf(path, sizeof path, "%s/rank.%d", argv[1], rank);
    int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    unsigned long long *acc = malloc(64 * sizeof *acc);
    if (out < 0 || !acc) {
        perror(path);
        return 1;
    }
    for (int i = 0; i < 64; i++)
        acc[i] = (unsigned long long)rank * 1000003ULL + (unsigned long long)i;
    for (int s = 0; s < steps; s++) {
        for (int i = 0; i < 64; i++)
            acc[i] = acc[i] * 6364136223846793005ULL + acc[(i + 1) % 64] + (unsigned long long)s;
        char line[128];
        int n = snprintf(line, sizeof line, "%d %d %llx\n", rank, s, acc[s % 64]);
        if (write(out, line, (size_t)n) != n) {
            perror("write");
            return 1;
        }
        struct timespec ts = { delay_ms / 1000, (delay_ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
    }
    unsigned long long sum = 0;
    for (int i = 0; i < 64; i++)
        sum ^= acc[i];
    printf("rank %d done %llx\n", rank, sum);
    return 0;
}
