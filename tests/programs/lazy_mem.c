/* lazy_mem MIB GOFILE: memory written with a known pattern, then, once GOFILE exists
 * (after a restart), used in every way a lazy restart must keep exact, before the
 * program has touched it: a child forked reads its copy, MADV_DONTNEED gives zeros,
 * mremap moves it, the kernel reads from it and writes into it (write/read of a
 * file), and the whole first region is checked.  Prints one line per check; the
 * output of a restarted run must equal an uninterrupted one. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL
#define SMALL (8UL << 20)

static uint64_t word(uint64_t tag, uint64_t page, uint64_t w)
{
    return (tag << 56) ^ page * 0x9E3779B97F4A7C15ULL ^ (w + 1) * 0xC2B2AE3D27D4EB4FULL;
}

static char *region(size_t len, uint64_t tag)
{
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    for (size_t pg = 0; pg < len / PAGE; pg++)
        for (size_t w = 0; w < PAGE / 8; w++)
            ((uint64_t *)(p + pg * PAGE))[w] = word(tag, pg, w);
    return p;
}

/* Pages of p (pages first..first+n of region tag) that do not hold the pattern. */
static size_t wrong(const char *p, size_t first, size_t n, uint64_t tag)
{
    size_t bad = 0;
    for (size_t pg = 0; pg < n; pg++)
        for (size_t w = 0; w < PAGE / 8; w++)
            if (((const uint64_t *)(p + pg * PAGE))[w] != word(tag, first + pg, w)) {
                bad++;
                break;
            }
    return bad;
}

static size_t nonzero(const char *p, size_t len)
{
    size_t bad = 0;
    for (size_t i = 0; i < len; i += PAGE)
        for (size_t w = 0; w < PAGE / 8; w++)
            if (((const uint64_t *)(p + i))[w]) {
                bad++;
                break;
            }
    return bad;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: lazy_mem MIB GOFILE\n");
        return 2;
    }
    size_t big = (size_t)atol(argv[1]) << 20;
    char *a = region(big, 1), *b = region(SMALL, 2), *c = region(SMALL, 3);
    char *d = region(SMALL, 4), *e = region(SMALL, 5);
    printf("ready: %zu MiB\n", big >> 20);
    fflush(stdout);
    for (int i = 0; access(argv[2], F_OK) != 0; i++) { /* the checkpoint comes meanwhile */
        if (i == 60000) {
            fprintf(stderr, "lazy_mem: no %s after 600 s\n", argv[2]);
            return 2;
        }
        nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
    }

    /* a child forked before anything was touched reads its copy of b */
    pid_t pid = fork();
    if (pid == 0)
        _exit(wrong(b, 0, SMALL / PAGE, 2) ? 1 : 0);
    int st = 0;
    waitpid(pid, &st, 0);
    printf("fork: the child %s\n", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "reads its memory" : "reads wrong memory");

    /* half of c dropped untouched reads zeros; the other half is intact */
    madvise(c, SMALL / 2, MADV_DONTNEED);
    printf("MADV_DONTNEED: %zu non-zero pages dropped, %zu wrong kept\n", nonzero(c, SMALL / 2),
           wrong(c + SMALL / 2, SMALL / 2 / PAGE, SMALL / 2 / PAGE, 3));

    /* d moved untouched keeps its contents at the new place */
    char *to = mmap(NULL, SMALL, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *moved = mremap(d, SMALL, SMALL, MREMAP_MAYMOVE | MREMAP_FIXED, to);
    printf("mremap: %s, %zu wrong pages\n", moved == to ? "moved" : "failed", moved == to ?
           wrong(moved, 0, SMALL / PAGE, 4) : SMALL / PAGE);

    /* the kernel reads untouched memory (write) and writes into it (read) */
    int fd = open("/tmp", O_TMPFILE | O_RDWR, 0600);
    ssize_t w = fd >= 0 ? pwrite(fd, e, SMALL / 2, 0) : -1;
    ssize_t r = fd >= 0 ? pread(fd, e + SMALL / 2, SMALL / 2, 0) : -1;
    printf("kernel: wrote %zd, read %zd, %zu wrong pages\n", w, r, wrong(e + SMALL / 2, 0, SMALL / 2 / PAGE, 5));
    if (fd >= 0)
        close(fd);

    printf("memory: %zu MiB, %zu wrong pages\n", big >> 20, wrong(a, 0, big / PAGE, 1));
    return 0;
}
