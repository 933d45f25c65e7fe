/* A program that unmapped its vdso: it stays unmapped, and the program runs on. */
#include "conf.h"
#include <sys/mman.h>

static int find(const char *name, unsigned long *lo, unsigned long *hi)
{
    char buf[65536];
    int fd = open("/proc/self/maps", O_RDONLY);
    ssize_t n, got = 0;
    while (fd >= 0 && (n = read(fd, buf + got, sizeof buf - 1 - (size_t)got)) > 0)
        got += n;
    if (fd >= 0)
        close(fd);
    buf[got] = 0;
    char *p = strstr(buf, name);
    if (!p)
        return 0;
    while (p > buf && p[-1] != '\n')
        p--;
    return sscanf(p, "%lx-%lx", lo, hi) == 2;
}

int main(void)
{
    unsigned long lo, hi;
    cf_check(find("[vdso]", &lo, &hi), "setup: no [vdso] mapped");
    cf_sys(munmap((void *)lo, hi - lo));
    cf_check(!find("[vdso]", &lo, &hi), "setup: [vdso] still mapped after munmap");
    cf_ready();
    cf_wait();
    cf_check(!find("[vdso]", &lo, &hi), "[vdso] is mapped again at %lx-%lx", lo, hi);
    struct timespec ts;
    cf_check(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts) == 0, "clock_gettime by syscall");
    cf_pass();
}
