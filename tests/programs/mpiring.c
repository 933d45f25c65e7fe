/* An MPI job for tests/slurm/mpi.sh (built there with MPICH's and Open MPI's mpicc):
 * each rank runs ITERS iterations, DELAY_MS apart, of an MPI_Allreduce (sum) plus a
 * ring MPI_Sendrecv (to rank+1, from rank-1), folds both into a checksum, and writes
 * "ITERATION CHECKSUM" to DIR/rank.<rank> (an fd kept open across checkpoints); at
 * the end it prints "rank R done CHECKSUM".  Every rank's checksum depends on every
 * other rank's past, so a message lost, duplicated or reordered at a restart shows.
 * usage: mpiring DIR ITERS DELAY_MS */
#define _GNU_SOURCE
#include <fcntl.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdULL;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    if (argc < 4) {
        fprintf(stderr, "usage: mpiring DIR ITERS DELAY_MS\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int iters = atoi(argv[2]);
    long delay_ms = atol(argv[3]);
    char path[4096];
    snprintf(path, sizeof path, "%s/rank.%d", argv[1], rank);
    int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
        perror(path);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    /* a payload big enough to be split into several packets on the ring */
    enum { WORDS = 4096 };
    uint64_t *sbuf = malloc(WORDS * sizeof *sbuf), *rbuf = malloc(WORDS * sizeof *rbuf);
    uint64_t sum = (uint64_t)rank * 1000003ULL + 17;
    for (int it = 1; it <= iters; it++) {
        uint64_t mine = mix(sum, (uint64_t)it), all = 0;
        MPI_Allreduce(&mine, &all, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
        for (int i = 0; i < WORDS; i++)
            sbuf[i] = mix(mine, (uint64_t)i);
        MPI_Sendrecv(sbuf, WORDS, MPI_UINT64_T, (rank + 1) % size, it, rbuf, WORDS, MPI_UINT64_T,
                     (rank + size - 1) % size, it, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        sum = mix(sum, all);
        for (int i = 0; i < WORDS; i++)
            sum = mix(sum, rbuf[i]);
        char line[64];
        int n = snprintf(line, sizeof line, "%d %016llx\n", it, (unsigned long long)sum);
        if (write(out, line, (size_t)n) != n) {
            perror(path);
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
        struct timespec ts = { delay_ms / 1000, (delay_ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
    }
    printf("rank %d done %016llx\n", rank, (unsigned long long)sum);
    fflush(stdout);
    MPI_Finalize();
    return 0;
}
