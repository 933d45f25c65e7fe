/* A pipe grown to 1 MiB with F_SETPIPE_SZ, holding 900 KiB: its size and data. */
#include "conf.h"

#define LEN (900 * 1024)

int main(void)
{
    static char want[LEN], got[LEN];
    int p[2];
    cf_sys(pipe(p));
    int sz = fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
    cf_check(sz >= 1 << 20, "F_SETPIPE_SZ 1 MiB: %s", sz < 0 ? strerror(errno) : "smaller");
    cf_fill(want, LEN, 11);
    cf_write_all(p[1], want, LEN);
    cf_ready();
    cf_wait();
    sz = fcntl(p[0], F_GETPIPE_SZ);
    cf_check(sz == 1 << 20, "F_GETPIPE_SZ: expected %d, got %d", 1 << 20, sz);
    cf_sys(fcntl(p[0], F_SETFL, O_NONBLOCK));
    cf_read_all(p[0], got, LEN, "the pipe");
    cf_check(memcmp(want, got, LEN) == 0, "the 900 KiB in the pipe differ");
    cf_check(read(p[0], got, 1) < 0 && errno == EAGAIN, "more than 900 KiB in the pipe");
    cf_pass();
}
