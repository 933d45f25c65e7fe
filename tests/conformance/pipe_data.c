/* A pipe with both ends open and 30,000 bytes in it. */
#include "conf.h"

#define LEN 30000

int main(void)
{
    static char want[LEN], got[LEN];
    int p[2];
    cf_sys(pipe(p));
    cf_fill(want, LEN, 5);
    cf_write_all(p[1], want, LEN);
    cf_ready();
    cf_wait();
    cf_read_all(p[0], got, LEN, "the pipe");
    cf_check(memcmp(want, got, LEN) == 0, "the data in the pipe differs");
    cf_sys(fcntl(p[0], F_SETFL, O_NONBLOCK));
    cf_check(read(p[0], got, 1) < 0 && errno == EAGAIN, "more than %d bytes in the pipe", LEN);
    cf_pass();
}
