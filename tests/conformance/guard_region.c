/* Guard pages (MADV_GUARD_INSTALL, Linux 6.13) inside a region with data: still guards
 * (the page map says so, a child touching one dies of SIGSEGV), the rest intact. */
#include "conf.h"
#include <sys/mman.h>

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif
#define PG 4096
#define PM_GUARD (1ULL << 58)

static int is_guard(const char *p)
{
    uint64_t e = 0;
    int fd = open("/proc/self/pagemap", O_RDONLY);
    if (fd < 0 || pread(fd, &e, 8, (off_t)((uintptr_t)p / PG * 8)) != 8)
        cf_fail("reading /proc/self/pagemap: %s", strerror(errno));
    close(fd);
    return (e & PM_GUARD) != 0;
}

int main(void)
{
    char *m = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cf_check(m != MAP_FAILED, "mmap: %s", strerror(errno));
    cf_fill(m, 16 * PG, 7);
    uint64_t head = cf_sum(m, 4 * PG), tail = cf_sum(m + 7 * PG, 9 * PG);
    cf_sys(madvise(m + 4 * PG, 3 * PG, MADV_GUARD_INSTALL));
    cf_check(is_guard(m + 4 * PG), "setup: the page map shows no guard after MADV_GUARD_INSTALL");
    cf_ready();
    cf_wait();
    for (int i = 0; i < 16; i++)
        cf_check(is_guard(m + i * PG) == (i >= 4 && i < 7), "page %d: expected %s, got %s", i,
                 i >= 4 && i < 7 ? "a guard page" : "an ordinary page",
                 is_guard(m + i * PG) ? "a guard page" : "an ordinary page");
    cf_check(cf_sum(m, 4 * PG) == head && cf_sum(m + 7 * PG, 9 * PG) == tail,
             "the data around the guard pages differs");
    pid_t c = fork();
    cf_sys(c);
    if (c == 0)
        _exit(m[5 * PG] == 0x5a ? 0 : 1); /* faults on a guard page */
    int st = cf_waitpid(c, 10, "the child");
    cf_check(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV,
             "a child touching a guard page: expected SIGSEGV, got status 0x%x", st);
    cf_pass();
}
