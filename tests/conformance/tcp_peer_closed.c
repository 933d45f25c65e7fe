/* A connection whose server end sent a line and was closed by the program (the
 * client in CLOSE_WAIT, the line unread): the client reads the line, then EOF, with
 * the same addresses. */
#include "tcp_conf.h"

int main(void)
{
    struct sockaddr_storage a;
    socklen_t len;
    int l = tc_listener(TC_V4, &a, &len), c, k;
    tc_pair(TC_V4, l, &c, &k);
    cf_write_all(k, "Hello World!", 12);
    cf_sys(close(k));
    tc_wait_state(c, TCP_CLOSE_WAIT, "client");
    struct tc_names nc;
    tc_note(c, &nc);
    cf_ready();
    cf_wait();
    tc_same(c, &nc, "client");
    cf_check(tc_state(c) == TCP_CLOSE_WAIT, "client: state expected CLOSE_WAIT, got %d", tc_state(c));
    char buf[13] = "";
    cf_check(cf_readable(c, 5), "client: nothing to read");
    ssize_t n = recv(c, buf, 12, MSG_WAITALL);
    cf_check(n == 12 && memcmp(buf, "Hello World!", 12) == 0, "client: expected Hello World!, got %zd '%s' (%s)",
             n, buf, n < 0 ? strerror(errno) : "");
    tc_expect_end(c, 1, "client, after the line");
    cf_pass();
}
