/* dirtier MIB STEPS DIR [PERCENT]: holds MIB MiB of known data and, at each step,
 * changes a known PERCENT (default 10: a tenth; 1, 2, 5, 10, 20, 25 or 50) of its pages, in every way memory changes under an incremental
 * checkpoint: written by the program, written by the kernel (read() from a file into
 * pages it does not touch otherwise), dropped (MADV_DONTNEED: zero again), a region
 * unmapped and mapped anew at the same address (its untouched pages zero, whatever
 * was there), a region moved (mremap), and a child forked that writes its own copy.
 * After step N it prints the step and a checksum of everything, then waits for the
 * file DIR/step.N before the next (the test checkpoints in between). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL
#define SIDE (4UL << 20)

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

static void fill(char *p, size_t len, uint64_t seed)
{
    for (size_t i = 0; i < len; i += 8) {
        uint64_t v = mix(seed + i);
        memcpy(p + i, &v, 8);
    }
}

static uint64_t sum(const char *p, size_t len)
{
    uint64_t s = 0;
    for (size_t i = 0; i < len; i += 8) {
        uint64_t v;
        memcpy(&v, p + i, 8);
        s = mix(s ^ v ^ i);
    }
    return s;
}

static void wait_file(const char *dir, int n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/step.%d", dir, n);
    struct timespec ts = { 0, 5 * 1000 * 1000 };
    struct stat st;
    while (stat(path, &st) < 0)
        nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 5)
        return fprintf(stderr, "usage: dirtier MIB STEPS DIR [PERCENT]\n"), 2;
    int pct = argc == 5 ? atoi(argv[4]) : 10;
    if (pct < 1 || pct > 50)
        return fprintf(stderr, "dirtier: PERCENT from 1 to 50\n"), 2;
    size_t period = 100 / (size_t)pct;
    size_t len = (size_t)atol(argv[1]) << 20, npages = len / PAGE;
    int steps = atoi(argv[2]);
    const char *dir = argv[3];
    char *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *side = mmap(NULL, SIDE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *moved = mmap(NULL, SIDE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *target = mmap(NULL, SIDE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED || side == MAP_FAILED || moved == MAP_FAILED || target == MAP_FAILED)
        return perror("mmap"), 1;
    fill(mem, len, 1);
    fill(side, SIDE, 2);
    fill(moved, SIDE, 3);
    /* the file the kernel copies from: its bytes known */
    char path[4096];
    snprintf(path, sizeof path, "%s/kernel-data", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return perror(path), 1;
    char *buf = malloc(64 * PAGE);
    for (int k = 0; k < 16; k++) {
        fill(buf, 64 * PAGE, 1000 + (uint64_t)k);
        if (write(fd, buf, 64 * PAGE) != (ssize_t)(64 * PAGE))
            return perror("write"), 1;
    }
    free(buf);
    for (int s = 1; s <= steps; s++) {
        if (s > 1)
            wait_file(dir, s - 1);
        /* a tenth of the pages (by default), a different one each step, written by the
         * program */
        for (size_t pg = 0; pg < npages; pg++)
            if ((pg * 7 + (size_t)s) % period == 0)
                fill(mem + pg * PAGE, PAGE, (uint64_t)s * 1000003 + pg);
        /* pages only the kernel writes: 64 pages read() from the file, in the tenth
         * the program did not touch this step */
        size_t at = ((size_t)s * 977 % (npages - 128)) & ~(size_t)63;
        while (((at * 7 + (size_t)s) % period) == 0)
            at++;
        if (pread(fd, mem + at * PAGE, 64 * PAGE, (off_t)((s % 16) * 64 * PAGE)) != (ssize_t)(64 * PAGE))
            return perror("pread"), 1;
        /* dropped: zero again */
        madvise(mem + ((size_t)s * 4099 % (npages - 16)) * PAGE, 16 * PAGE, MADV_DONTNEED);
        if (s == 2) { /* mapped anew at the same place: half of it written, half zero */
            if (munmap(side, SIDE) < 0 ||
                mmap(side, SIDE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                     -1, 0) != side)
                return perror("remap"), 1;
            fill(side, SIDE / 2, 22);
        }
        if (s == 3) { /* moved elsewhere, a quarter of it written there */
            char *m = mremap(moved, SIDE, SIDE, MREMAP_MAYMOVE | MREMAP_FIXED, target);
            if (m == MAP_FAILED)
                return perror("mremap"), 1;
            target = moved;
            moved = m;
            fill(moved + SIDE / 4, SIDE / 4, 33);
        }
        if (s == 3) { /* a child writes its copy (its pages are not ours) and ends */
            pid_t c = fork();
            if (c == 0) {
                fill(mem, len / 2, 99);
                _exit(sum(mem, len) == 0);
            }
            int st = 0;
            if (c < 0 || waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st))
                return fprintf(stderr, "the child failed\n"), 1;
        }
        printf("step %d mem %016llx side %016llx moved %016llx\n", s,
               (unsigned long long)sum(mem, len), (unsigned long long)sum(side, SIDE),
               (unsigned long long)sum(moved, SIDE));
        fflush(stdout);
    }
    return 0;
}
