/* Test program for pre-copy checkpoints (tests/engine/precopy.sh): pcwriter MIB DIR.
 * A writer thread rewrites MIB MiB of pages in order, round after round, without end:
 * each page holds its round, its index and bytes derived from both.  Each round it
 * also drops a window of pages (MADV_DONTNEED: zeros until the next round writes them)
 * and maps a second region anew at the same address (MAP_FIXED: the kernel drops any
 * registration there) before filling it.  Where it is (round, page, the second
 * region's progress) is kept in memory with the pages, so that at any instant the
 * whole memory follows from it.  Prints "ready" once the first round is written;
 * when DIR/check exists the main thread stops the writer and checks every page
 * against that state and writes DIR/result: "verified N pages", or the first page
 * that disagrees (exit 1).
 * PCWRITER_ODIRECT=FILE: that file is kept open with O_DIRECT. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096
#define WINDOW 64          /* pages dropped each round, from the middle */
#define SECOND (4 << 20)   /* the region mapped anew each round */

static unsigned char *mem, *second;
static size_t npages;
/* the writer's state, with the memory it describes, each in one store: its round
 * and the pages of it written (round << 32 | pages); the window 0 written, 1 being
 * dropped (each page zeros or as written), 2 dropped (zeros until written again);
 * the second region 1 being mapped anew (each page zeros or of its round), else
 * filled up to second_pos with its round */
static volatile uint64_t state, window, second_phase, second_round, second_pos;
static volatile int stop_writer;

static void fill(unsigned char *p, uint64_t round, uint64_t index)
{
    uint64_t x = round * 0x9e3779b97f4a7c15ULL ^ (index + 1) * 0xbf58476d1ce4e5b9ULL;
    memcpy(p, &round, 8);
    memcpy(p + 8, &index, 8);
    for (size_t i = 16; i < PAGE; i += 8) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        memcpy(p + i, &x, 8);
    }
}

static int matches(const unsigned char *p, uint64_t round, uint64_t index)
{
    unsigned char want[PAGE];
    fill(want, round, index);
    return !memcmp(p, want, PAGE);
}

static int zero(const unsigned char *p)
{
    for (size_t i = 0; i < PAGE; i++)
        if (p[i])
            return 0;
    return 1;
}

static void pause_a_little(void)
{
    struct timespec ts = { 0, 200 * 1000 }; /* a pace, not a synchronisation */
    nanosleep(&ts, NULL);
}

static void write_round(uint64_t r)
{
    for (size_t i = 0; i < npages && !stop_writer; i++) {
        fill(mem + i * PAGE, r, i);
        state = r << 32 | (i + 1);
        if (i == npages / 2 + WINDOW - 1)
            window = 0; /* written again */
        if (i % 8 == 7)
            pause_a_little();
    }
}

static void *writer(void *arg)
{
    (void)arg;
    for (uint64_t r = 2; !stop_writer; r++) {
        state = r << 32;
        write_round(r);
        if (stop_writer)
            break;
        window = 1;
        madvise(mem + npages / 2 * PAGE, WINDOW * PAGE, MADV_DONTNEED);
        window = 2;
        second_phase = 1;
        if (mmap(second, SECOND, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                 -1, 0) != second)
            abort();
        second_round = r;
        second_pos = 0;
        second_phase = 0;
        for (size_t i = 0; i < SECOND / PAGE && !stop_writer; i++) {
            fill(second + i * PAGE, r, i);
            second_pos = i + 1;
        }
    }
    return NULL;
}

static int verify(void)
{
    uint64_t r = state >> 32, written = state & 0xffffffffu;
    for (size_t i = 0; i < npages; i++) {
        const unsigned char *p = mem + i * PAGE;
        int in_window = i >= npages / 2 && i < npages / 2 + WINDOW;
        int ok = matches(p, i < written ? r : r - 1, i);
        if (in_window && window == 1)
            ok = ok || zero(p);
        else if (in_window && window == 2 && i >= written)
            ok = zero(p);
        if (!ok) {
            uint64_t got;
            memcpy(&got, p, 8);
            printf("page %zu differs: round %llu in memory; the writer at round %llu page %llu, "
                   "window %llu\n", i, (unsigned long long)got, (unsigned long long)r,
                   (unsigned long long)written, (unsigned long long)window);
            return 1;
        }
    }
    for (size_t i = 0; i < SECOND / PAGE; i++) {
        const unsigned char *p = second + i * PAGE;
        int ok = second_phase ? zero(p) || matches(p, second_round, i)
               : i < second_pos ? matches(p, second_round, i) : zero(p);
        if (!ok) {
            printf("page %zu of the second region differs (its round %llu, filled to %llu)\n", i,
                   (unsigned long long)second_round, (unsigned long long)second_pos);
            return 1;
        }
    }
    printf("verified %zu pages\n", npages + SECOND / PAGE);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: pcwriter MIB DIR\n");
        return 2;
    }
    npages = strtoul(argv[1], NULL, 10) * (1 << 20) / PAGE;
    mem = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    second = mmap(NULL, SECOND, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED || second == MAP_FAILED)
        return 2;
    for (size_t i = 0; i < npages; i++)
        fill(mem + i * PAGE, 1, i);
    state = 1ULL << 32 | npages;
    second_round = 1;
    for (size_t i = 0; i < SECOND / PAGE; i++)
        fill(second + i * PAGE, 1, i);
    second_pos = SECOND / PAGE;
    /* PCWRITER_ODIRECT=FILE: that file open with O_DIRECT (the pre-copy must refuse) */
    const char *odirect = getenv("PCWRITER_ODIRECT");
    if (odirect && open(odirect, O_RDONLY | O_DIRECT) < 0)
        printf("no O_DIRECT here\n");
    pthread_t t;
    if (pthread_create(&t, NULL, writer, NULL))
        return 2;
    printf("ready\n");
    fflush(stdout);
    char check[4096];
    snprintf(check, sizeof check, "%s/check", argv[2]);
    while (access(check, F_OK) != 0) {
        struct timespec ts = { 0, 20 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    stop_writer = 1;
    pthread_join(t, NULL);
    /* the verdict into DIR/result too (a restarted copy's stdout is the first one's) */
    char result[4096];
    snprintf(result, sizeof result, "%s/result", argv[2]);
    if (!freopen(result, "w", stdout))
        return 2;
    int rc = verify();
    fflush(stdout);
    return rc;
}
