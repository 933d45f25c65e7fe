/* Test program for pre-copy checkpoints of memory never touched
 * (tests/engine/precopy_untouched.sh): untouched MIB DIR.  Maps MIB MiB anonymous and
 * writes a pattern in one MiB of every four (the rest never touched: no page there);
 * prints "ready"; once DIR/go exists it writes one page in the middle of each
 * untouched MiB too (a write after the checkpoint's first pass, into memory with no
 * page yet); then, when DIR/check exists, checks every page (the pattern where
 * written, zeros elsewhere) and writes DIR/result: "verified N pages", or the first
 * page that disagrees (exit 1). */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096
#define MIB (1 << 20)

static int written(size_t page, int late)
{
    size_t mib = page * PAGE / MIB, in_mib = page % (MIB / PAGE);
    return mib % 4 == 0 || (late && in_mib == MIB / PAGE / 2);
}

static uint64_t word(size_t page, size_t i)
{
    return (page + 1) * 0x9e3779b97f4a7c15ULL ^ (i + 1) * 0xbf58476d1ce4e5b9ULL;
}

static void fill(unsigned char *p, size_t page)
{
    for (size_t i = 0; i < PAGE / 8; i++) {
        uint64_t w = word(page, i);
        memcpy(p + i * 8, &w, 8);
    }
}

static int waits_for(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct timespec ts = { 0, 10 * 1000 * 1000 };
    while (access(path, F_OK) != 0)
        nanosleep(&ts, NULL);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: untouched MIB DIR\n");
        return 2;
    }
    size_t npages = (size_t)atol(argv[1]) * (MIB / PAGE);
    unsigned char *mem = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    for (size_t p = 0; p < npages; p++)
        if (written(p, 0))
            fill(mem + p * PAGE, p);
    printf("ready\n");
    fflush(stdout);
    waits_for(argv[2], "go");
    for (size_t p = 0; p < npages; p++)
        if (written(p, 1) && !written(p, 0))
            fill(mem + p * PAGE, p);
    printf("written\n");
    fflush(stdout);
    waits_for(argv[2], "check");
    char path[4096];
    snprintf(path, sizeof path, "%s/result", argv[2]);
    FILE *f = fopen(path, "w");
    if (!f)
        return 1;
    unsigned char want[PAGE], zero[PAGE] = { 0 };
    for (size_t p = 0; p < npages; p++) {
        if (written(p, 1))
            fill(want, p);
        if (memcmp(mem + p * PAGE, written(p, 1) ? want : zero, PAGE)) {
            fprintf(f, "page %zu (at MiB %zu) is not as written%s\n", p, p * PAGE / MIB,
                    written(p, 1) ? "" : " (it should be zeros: never written)");
            fclose(f);
            return 1;
        }
    }
    fprintf(f, "verified %zu pages\n", npages);
    fclose(f);
    return 0;
}
