/* A pipe in packet mode (O_DIRECT) with three writes of different sizes queued: each
 * read after the restart gives one of them whole, and the mode is kept. */
#include "conf.h"

int main(void)
{
    int p[2];
    cf_sys(pipe2(p, O_DIRECT));
    cf_write_all(p[1], "one", 3);
    cf_write_all(p[1], "second", 6);
    cf_write_all(p[1], "3", 1);
    cf_ready();
    cf_wait();
    cf_check(fcntl(p[1], F_GETFL) & O_DIRECT, "the write end lost O_DIRECT"); /* only it has it */
    const char *want[3] = { "one", "second", "3" };
    for (int i = 0; i < 3; i++) {
        char buf[64] = "";
        ssize_t n = read(p[0], buf, sizeof buf);
        cf_check(n == (ssize_t)strlen(want[i]) && !memcmp(buf, want[i], (size_t)n),
                 "read %d: expected the packet '%s', got %zd bytes '%.*s'", i + 1, want[i], n,
                 (int)(n > 0 ? n : 0), buf);
    }
    cf_write_all(p[1], "ab", 2);
    cf_write_all(p[1], "cd", 2);
    char buf[8];
    cf_check(read(p[0], buf, 8) == 2, "a packet written after the restart is not read alone");
    cf_pass();
}
