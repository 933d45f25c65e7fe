/* Benchmark load.  memtouch MIB [KIND]: fills MIB MiB of memory with KIND data
 * (random: incompressible, the default; doubles: a smooth field of doubles with zeroed
 * halo buffers, what a solver holds; sparse: a sparse matrix's dense storage, one
 * random double in sixteen; pages: one byte per page, the rest zero), prints
 * "ready", then spins reading the clock and remembers the longest gap between two
 * reads: the time it was stopped.  On SIGUSR1 it reads its whole memory once and
 * prints "pass_us N" (the first pass after a restart); on SIGTERM it prints
 * "max_stall_us N", then "stall_at_us START LEN" for each of its 8 longest gaps
 * (START on CLOCK_MONOTONIC: the benchmark finds the one the checkpoint's freeze
 * fell in, apart from the machine's own scheduling delays), and exits.
 * memtouch loop N: N rounds of a system call and a little arithmetic, then prints
 * "loop_us N": the runtime's overhead when nothing is checkpointed.
 * memtouch populate MIB: maps MIB MiB anonymous and has the kernel allocate every page
 * (MADV_POPULATE_WRITE), then prints "populate_us N": the least any restart that puts
 * the memory in page by page can cost. */
#include <math.h>
#include <sys/mman.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop, pass;
static void on_term(int sig) { (void)sig; stop = 1; }
static void on_usr1(int sig) { (void)sig; pass = 1; }

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int main(int argc, char **argv)
{
    if (argc > 2 && !strcmp(argv[1], "loop")) {
        long n = atol(argv[2]);
        uint64_t t0 = now_us(), acc = 1;
        for (long i = 0; i < n; i++)
            acc = acc * 6364136223846793005ULL + (uint64_t)getppid();
        printf("loop_us %llu %llu\n", (unsigned long long)(now_us() - t0), (unsigned long long)(acc & 1));
        return 0;
    }
    if (argc > 2 && !strcmp(argv[1], "populate")) {
        size_t len = strtoul(argv[2], NULL, 10) << 20;
        void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
            return 1;
        uint64_t t0 = now_us();
        if (madvise(m, len, MADV_POPULATE_WRITE) != 0) { /* (Linux 5.14+) */
            perror("memtouch: madvise(MADV_POPULATE_WRITE)");
            return 1;
        }
        printf("populate_us %llu\n", (unsigned long long)(now_us() - t0));
        return 0;
    }
    size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 256;
    const char *kind = argc > 2 ? argv[2] : "random";
    size_t len = mib << 20;
    unsigned char *mem = malloc(len);
    if (!mem)
        return 1;
    if (!strcmp(kind, "pages")) {
        for (size_t i = 0; i < len; i += 4096)
            mem[i] = (unsigned char)(i >> 12) | 1;
    } else if (!strcmp(kind, "sparse")) {
        double *d = (double *)mem;
        uint64_t x = 0x9e3779b97f4a7c15ULL;
        for (size_t i = 0; i < len / 8; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            d[i] = i % 16 ? 0.0 : (double)(x >> 11) * 0x1p-53;
        }
    } else if (!strcmp(kind, "doubles")) {
        /* rows of 1024 doubles: a smooth field, one row in eight a zeroed halo */
        double *d = (double *)mem;
        for (size_t i = 0; i < len / 8; i++)
            d[i] = (i / 1024) % 8 == 7 ? 0.0 : 300.0 + 10.0 * sin((double)i * 1e-5);
    } else {
        uint64_t x = 0x9e3779b97f4a7c15ULL;
        for (size_t i = 0; i + 8 <= len; i += 8) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            memcpy(mem + i, &x, 8);
        }
    }
    signal(SIGTERM, on_term);
    signal(SIGUSR1, on_usr1);
    printf("ready\n");
    fflush(stdout);
    uint64_t last = now_us(), worst = 0, t;
    struct { uint64_t at, len; } gaps[8] = { { 0, 0 } }; /* the longest, shortest first */
    while (!stop) {
        if (pass) {
            pass = 0;
            uint64_t t0 = now_us(), sum = 0;
            for (size_t i = 0; i < len; i += 64) /* every cache line: every page faulted in */
                sum += mem[i];
            printf("pass_us %llu %llu\n", (unsigned long long)(now_us() - t0), (unsigned long long)(sum & 1));
            fflush(stdout);
            last = now_us();
        }
        t = now_us();
        if (t - last > worst)
            worst = t - last;
        if (t - last > gaps[0].len) {
            int i = 0;
            for (; i < 7 && t - last > gaps[i + 1].len; i++)
                gaps[i] = gaps[i + 1];
            gaps[i].at = last, gaps[i].len = t - last;
        }
        last = t;
    }
    printf("max_stall_us %llu\n", (unsigned long long)worst);
    for (int i = 7; i >= 0; i--)
        if (gaps[i].len)
            printf("stall_at_us %llu %llu\n", (unsigned long long)gaps[i].at, (unsigned long long)gaps[i].len);
    return 0;
}
