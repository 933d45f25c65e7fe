/* A unix stream socket pair with 50,000 bytes queued each way. */
#include "conf.h"

#define LEN 50000

int main(void)
{
    static char want[LEN], got[LEN];
    int sv[2];
    cf_sys(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    cf_fill(want, LEN, 1);
    cf_write_all(sv[0], want, LEN);
    cf_fill(want, LEN, 2);
    cf_write_all(sv[1], want, LEN);
    cf_ready();
    cf_wait();
    cf_check(cf_getint(sv[0], SOL_SOCKET, SO_TYPE) == SOCK_STREAM, "SO_TYPE: expected SOCK_STREAM");
    cf_fill(want, LEN, 1);
    cf_read_all(sv[1], got, LEN, "a->b");
    cf_check(memcmp(want, got, LEN) == 0, "the bytes queued a->b differ");
    cf_fill(want, LEN, 2);
    cf_read_all(sv[0], got, LEN, "b->a");
    cf_check(memcmp(want, got, LEN) == 0, "the bytes queued b->a differ");
    cf_check(recv(sv[1], got, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN, "more than %d bytes were queued a->b", LEN);
    cf_pass();
}
