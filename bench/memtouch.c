/* Benchmark load: touches SIZE MiB of memory, prints "ready", then spins reading the
 * clock and remembers the longest gap between two reads: the time it was stopped.
 * On SIGTERM it prints that gap (in microseconds) and exits. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_term(int sig) { (void)sig; stop = 1; }

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int main(int argc, char **argv)
{
    size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 256;
    size_t len = mib << 20;
    unsigned char *mem = malloc(len);
    if (!mem)
        return 1;
    for (size_t i = 0; i < len; i += 4096)
        mem[i] = (unsigned char)(i >> 12) | 1; /* every page touched, not compressible to nothing */
    signal(SIGTERM, on_term);
    printf("ready\n");
    fflush(stdout);
    uint64_t last = now_us(), worst = 0, t;
    while (!stop) {
        t = now_us();
        if (t - last > worst)
            worst = t - last;
        last = t;
    }
    printf("max_stall_us %llu\n", (unsigned long long)worst);
    return 0;
}
