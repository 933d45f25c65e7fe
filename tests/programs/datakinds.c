/* Memory of the kinds a compressed checkpoint meets, each MIB MiB (argument 1): an
 * array of smooth doubles, a sparse matrix (values and indices, mostly zero rows), a
 * zeroed buffer that was written (so it is saved), random bytes; also one region that
 * mixes random and zero pages.  Each step changes all of them a little and prints a
 * checksum of every byte: the output only matches an uninterrupted run if every block
 * came back exactly.  Usage: datakinds MIB STEPS DELAY_MS [KIND] (KIND: all, doubles,
 * sparse, zeros, random — only that one) */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint64_t *w = p;
    for (size_t i = 0; i < n / 8; i++)
        h = (h ^ w[i]) * 0x100000001b3ULL;
    return h;
}

static uint64_t rng = 0x243f6a8885a308d3ULL;
static uint64_t next(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}

int main(int argc, char **argv)
{
    size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 16;
    int steps = argc > 2 ? atoi(argv[2]) : 10;
    long delay_ms = argc > 3 ? atol(argv[3]) : 100;
    const char *kind = argc > 4 ? argv[4] : "all";
    int all = !strcmp(kind, "all");
    size_t len = mib << 20, nd = len / sizeof(double);
    double *dbl = NULL;
    double *sp_val = NULL;
    uint32_t *sp_idx = NULL;
    unsigned char *zero = NULL, *rnd = NULL, *mixed = NULL;
    if (all || !strcmp(kind, "doubles")) {
        dbl = malloc(len);
        for (size_t i = 0; i < nd; i++) /* a smooth field, as a solver's grid holds */
            dbl[i] = 1.0 + 0.25 * sin((double)i * 1e-4);
    }
    if (all || !strcmp(kind, "sparse")) { /* CSR: few values a row, most rows empty */
        sp_val = calloc(nd / 2, sizeof(double));
        sp_idx = calloc(nd / 2, sizeof(uint32_t));
        for (size_t i = 0; i < nd / 2; i += 97) {
            sp_val[i] = (double)(i % 1000) * 0.5;
            sp_idx[i] = (uint32_t)(i * 7 % 100003);
        }
    }
    if (all || !strcmp(kind, "zeros")) {
        zero = malloc(len);
        memset(zero, 0, len); /* touched: every page is saved */
    }
    if (all || !strcmp(kind, "random")) {
        rnd = malloc(len);
        for (size_t i = 0; i < len; i += 8) {
            uint64_t v = next();
            memcpy(rnd + i, &v, 8);
        }
    }
    if (all) { /* random and zero pages in turn, within blocks */
        mixed = malloc(len);
        memset(mixed, 0, len);
        for (size_t i = 0; i < len; i += 8192)
            for (size_t k = 0; k < 4096; k += 8) {
                uint64_t v = next();
                memcpy(mixed + i + k, &v, 8);
            }
    }
    for (int s = 0; s < steps; s++) {
        uint64_t h = 0xcbf29ce484222325ULL;
        if (dbl) {
            for (size_t i = (size_t)s; i < nd; i += 4099)
                dbl[i] += 1e-3 * s;
            h = fnv(h, dbl, len);
        }
        if (sp_val) {
            sp_val[(size_t)s * 101 % (nd / 2)] += 1.0;
            h = fnv(h, sp_val, nd / 2 * sizeof(double));
            h = fnv(h, sp_idx, nd / 2 * sizeof(uint32_t));
        }
        if (zero) {
            zero[(size_t)s * 4096 % len] ^= 1;
            h = fnv(h, zero, len);
        }
        if (rnd) {
            rnd[(size_t)s * 65537 % len] ^= 0x5a;
            h = fnv(h, rnd, len);
        }
        if (mixed)
            h = fnv(h, mixed, len);
        printf("step %d hash %016llx\n", s, (unsigned long long)h);
        fflush(stdout);
        struct timespec ts = { delay_ms / 1000, (delay_ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
    }
    printf("done\n");
    return 0;
}
