/* An IPv6 listener with three connections of the process in its backlog, not accepted
 * yet, the first two having sent data (one 200 KiB), the second with TCP_NODELAY and a
 * second fd (dup): they are accepted afterwards in the order they came, each with its
 * data, each client with its address, options and fds, each still talking. */
#include "tcp_conf.h"

int main(void)
{
    struct sockaddr_storage a;
    socklen_t len;
    int l = tc_listener(TC_V6, &a, &len);
    int c[3];
    size_t sent[3] = { 200 * 1024, 12, 0 };
    struct tc_names n[3];
    for (int i = 0; i < 3; i++) {
        c[i] = tc_client(AF_INET6, 0);
        if (i == 1)
            cf_setint(c[i], IPPROTO_TCP, TCP_NODELAY, 1);
        cf_sys(connect(c[i], (void *)&a, len));
        tc_queue(c[i], sent[i], 10 + (unsigned)i);
        tc_note(c[i], &n[i]);
    }
    int dup1 = dup(c[1]);
    cf_sys(dup1);
    cf_ready();
    cf_wait();
    for (int i = 0; i < 3; i++) {
        tc_same(c[i], &n[i], "client");
        cf_check(cf_readable(l, 5), "connection %d of the backlog is not there to accept", i + 1);
        struct sockaddr_storage from;
        socklen_t flen = sizeof from;
        int k = accept(l, (void *)&from, &flen);
        cf_check(k >= 0, "accept %d: %s", i + 1, strerror(errno));
        cf_check(strcmp(cf_addr_str(&from, flen), n[i].self) == 0, "accepted connection %d: expected from %s, got %s",
                 i + 1, n[i].self, cf_addr_str(&from, flen));
        tc_expect(k, sent[i], 10 + (unsigned)i, "accepted connection");
        tc_expect_end(k, 0, "accepted connection, after its data");
        cf_write_all(k, "ok", 2);
        char b[2];
        int from_fd = i == 1 ? dup1 : c[i];
        cf_check(cf_readable(from_fd, 5) && recv(from_fd, b, 2, 0) == 2, "client %d did not get the reply", i + 1);
    }
    cf_check(cf_getint(c[1], IPPROTO_TCP, TCP_NODELAY) == 1 && cf_getint(dup1, IPPROTO_TCP, TCP_NODELAY) == 1,
             "client 2: TCP_NODELAY expected 1 on both its fds");
    cf_pass();
}
