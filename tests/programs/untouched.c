/* Test program for pre-copy checkpoints of memory never touched
 * (tests/engine/precopy_untouched.sh): untouched MIB DIR.  Maps MIB MiB anonymous and
 * writes a pattern in one MiB of every four (the rest never touched: no page there);
 * prints "ready".  Its checkpoint callback (BLCR's, run after the pre-copy's passes,
 * right before the freeze) writes one page in the middle of each untouched MiB (pages
 * where there were none when the passes took the page map) and drops the first page
 * of every 64th MiB (MADV_DONTNEED: zeros).  Once DIR/go exists it writes one more
 * page in each untouched MiB (after the checkpoint, into memory with no page yet);
 * then, when DIR/check exists, checks every page (the pattern where written, zeros
 * elsewhere) and writes DIR/result: "verified N pages", or the first page that
 * disagrees (exit 1). */
#define _GNU_SOURCE
#include <libcr.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096
#define MIB (1 << 20)

/* whether page holds the pattern in phase 0 (started), 1 (after the callback), 2
 * (after go) */
static int written(size_t page, int phase)
{
    size_t mib = page * PAGE / MIB, in_mib = page % (MIB / PAGE);
    if (mib % 4 == 0) /* (a page dropped changes its block: every 64th MiB only) */
        return phase == 0 || in_mib != 0 || mib % 64 != 0;
    return (phase >= 1 && in_mib == MIB / PAGE / 2) || (phase >= 2 && in_mib == MIB / PAGE / 4);
}

static unsigned char *mem;
static size_t npages;
static int called;

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

static void fill(unsigned char *p, size_t page);

/* phase 0 to phase 1, before the freeze */
static int callback(void *arg)
{
    (void)arg;
    for (size_t p = 0; !called && p < npages; p++) {
        if (written(p, 1) && !written(p, 0))
            fill(mem + p * PAGE, p);
        else if (written(p, 0) && !written(p, 1))
            madvise(mem + p * PAGE, PAGE, MADV_DONTNEED);
    }
    called = 1;
    cr_checkpoint(CR_CHECKPOINT_READY);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: untouched MIB DIR\n");
        return 2;
    }
    npages = (size_t)atol(argv[1]) * (MIB / PAGE);
    mem = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    for (size_t p = 0; p < npages; p++)
        if (written(p, 0))
            fill(mem + p * PAGE, p);
    cr_init();
    cr_register_callback(callback, NULL, CR_THREAD_CONTEXT);
    printf("ready\n");
    fflush(stdout);
    waits_for(argv[2], "go");
    if (!called) {
        fprintf(stderr, "untouched: go before any checkpoint\n");
        return 1;
    }
    for (size_t p = 0; p < npages; p++)
        if (written(p, 2) && !written(p, 1))
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
        if (written(p, 2))
            fill(want, p);
        if (memcmp(mem + p * PAGE, written(p, 2) ? want : zero, PAGE)) {
            fprintf(f, "page %zu (at MiB %zu) is not as written%s\n", p, p * PAGE / MIB,
                    written(p, 2) ? "" : " (it should be zeros: never written, or dropped)");
            fclose(f);
            return 1;
        }
    }
    fprintf(f, "verified %zu pages\n", npages);
    fclose(f);
    return 0;
}
