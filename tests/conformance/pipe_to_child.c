/* A pipe from the parent to a child with 10,000 bytes in flight that the child has
 * not read: it reads them afterwards, and reports their checksum back. */
#include "conf.h"

#define LEN 10000

int main(void)
{
    static char buf[LEN];
    int to[2], from[2];
    cf_sys(pipe(to));
    cf_sys(pipe(from));
    cf_fill(buf, LEN, 17);
    uint64_t want = cf_sum(buf, LEN);
    int go[2];
    cf_sys(pipe(go));
    pid_t c = fork();
    cf_sys(c);
    if (c == 0) {
        char b;
        close(to[1]);
        close(go[1]);
        if (read(go[0], &b, 1) != 1)
            _exit(1);
        size_t got = 0;
        while (got < LEN) {
            ssize_t n = read(to[0], buf + got, LEN - got);
            if (n <= 0)
                _exit(2);
            got += (size_t)n;
        }
        uint64_t s = cf_sum(buf, LEN);
        _exit(write(from[1], &s, 8) == 8 ? 0 : 3);
    }
    close(to[0]);
    close(go[0]);
    close(from[1]);
    cf_write_all(to[1], buf, LEN);
    cf_ready();
    cf_wait();
    cf_write_all(go[1], "g", 1);
    uint64_t s = 0;
    cf_check(cf_readable(from[0], 10) && read(from[0], &s, 8) == 8, "the child did not report");
    cf_check(s == want, "the child read other bytes: checksum %016llx, expected %016llx", (unsigned long long)s, (unsigned long long)want);
    cf_waitpid(c, 10, "the child");
    cf_pass();
}
