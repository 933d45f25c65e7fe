/* Computes over a large heap and prints a running checksum: its output only matches
 * an uninterrupted run if every byte of memory and every register survived. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
    size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 256;
    int steps = argc > 2 ? atoi(argv[2]) : 20;
    long delay_ms = argc > 3 ? atol(argv[3]) : 100;
    size_t n = mib * 1024 * 1024 / sizeof(uint64_t);
    uint64_t *heap = malloc(n * sizeof *heap);
    if (!heap) {
        perror("malloc");
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        heap[i] = i * 0x9e3779b97f4a7c15ULL;
    double fp = 1.0;
    for (int s = 0; s < steps; s++) {
        uint64_t sum = 0;
        for (size_t i = 0; i < n; i++) {
            heap[i] = heap[i] * 6364136223846793005ULL + (uint64_t)s + 1442695040888963407ULL;
            sum ^= heap[i] >> (i & 31);
        }
        fp = fp * 1.000001 + (double)(sum & 0xffff) / 65536.0;
        printf("step %d sum %016llx fp %.9f\n", s, (unsigned long long)sum, fp);
        fflush(stdout);
        struct timespec ts = { delay_ms / 1000, (delay_ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
    }
    printf("done\n");
    return 0;
}
