/* A memfd mapped MAP_SHARED, shared with a child that has the mapping: the parent's
 * writes through the fd show in the child's mapping and the child's writes through
 * the mapping reach the fd, afterwards too. */
#include "conf.h"
#include <sys/mman.h>

#define LEN (4 * 4096)

int main(void)
{
    int fd = memfd_create("conf-child", 0);
    cf_sys(fd);
    cf_sys(ftruncate(fd, LEN));
    volatile uint32_t *m = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    cf_check(m != MAP_FAILED, "mmap: %s", strerror(errno));
    cf_fill((char *)m + 4096, LEN - 4096, 23);
    uint64_t want = cf_sum((char *)m + 4096, LEN - 4096);
    int ask[2], ans[2];
    cf_sys(pipe(ask));
    cf_sys(pipe(ans));
    pid_t c = fork();
    cf_sys(c);
    if (c == 0) { /* on each byte: m[1] = m[0] + 1 through its mapping */
        char b;
        close(ask[1]);
        close(ans[0]);
        while (read(ask[0], &b, 1) == 1) {
            m[1] = m[0] + 1;
            if (write(ans[1], "k", 1) != 1)
                _exit(1);
        }
        _exit(0);
    }
    uint32_t v = 10, got = 0;
    cf_check(pwrite(fd, &v, 4, 0) == 4, "pwrite: %s", strerror(errno));
    cf_write_all(ask[1], "?", 1);
    char b;
    cf_check(cf_readable(ans[0], 10) && read(ans[0], &b, 1) == 1 && pread(fd, &got, 4, 4) == 4 && got == 11,
             "setup: the child does not share the memfd");
    cf_ready();
    cf_wait();
    static char data[LEN - 4096];
    cf_check(pread(fd, data, sizeof data, 4096) == (ssize_t)sizeof data && cf_sum(data, sizeof data) == want,
             "the memfd's data differs (through the fd)");
    v = 1234;
    cf_check(pwrite(fd, &v, 4, 0) == 4, "pwrite: %s", strerror(errno));
    cf_write_all(ask[1], "?", 1);
    cf_check(cf_readable(ans[0], 10) && read(ans[0], &b, 1) == 1, "the child does not answer");
    cf_check(pread(fd, &got, 4, 4) == 4 && got == 1235,
             "the child's write through its mapping: expected 1235 through the fd, got %u (not one memory any more)", got);
    cf_check(m[1] == 1235, "the parent's mapping: expected 1235, got %u", m[1]);
    close(ask[1]);
    cf_waitpid(c, 10, "the child");
    cf_pass();
}
