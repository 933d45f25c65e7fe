/* Memory with a guard region (MADV_GUARD_INSTALL, Linux 6.13): touching it kills, so
 * a checkpoint must not read it.  Prints a running checksum of the rest; "no guard
 * regions here" and exit 77 on older kernels. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

int main(int argc, char **argv)
{
    int lines = argc > 1 ? atoi(argv[1]) : 30;
    long page = 4096;
    unsigned char *p = mmap(NULL, 16 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return 1;
    for (long i = 0; i < 16 * page; i++)
        p[i] = (unsigned char)(i * 7);
    if (madvise(p + 4 * page, 2 * page, MADV_GUARD_INSTALL) != 0) {
        printf("no guard regions here (%s)\n", errno == EINVAL ? "kernel before 6.13" : "madvise failed");
        return 77;
    }
    unsigned long sum = 0;
    for (int i = 0; i < lines; i++) {
        for (long k = 0; k < 4 * page; k++)
            sum += p[k] * (unsigned long)(i + 1);
        for (long k = 6 * page; k < 16 * page; k++)
            sum ^= p[k] + (unsigned long)i;
        printf("%d %lu\n", i, sum);
        fflush(stdout);
        struct timespec ts = { 0, 50 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    return 0;
}
