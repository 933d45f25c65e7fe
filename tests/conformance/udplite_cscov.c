/* Two UDP-Lite sockets on the loopback (IPPROTO_UDPLITE), the second connected to the
 * first, with checksum coverages set (UDPLITE_SEND_CSCOV, UDPLITE_RECV_CSCOV) and a
 * datagram queued: they stay UDP-Lite with the same coverages, addresses and peer,
 * the queued datagram comes first, and datagrams go both ways afterwards. */
#include "conf.h"
#include <netinet/in.h>
#ifndef FAMILY
#define FAMILY AF_INET
#endif
#ifndef IPPROTO_UDPLITE
#define IPPROTO_UDPLITE 136
#endif
#ifndef UDPLITE_SEND_CSCOV
#define UDPLITE_SEND_CSCOV 10
#define UDPLITE_RECV_CSCOV 11
#endif

static int opt(int s, int name)
{
    int v = -1;
    socklen_t l = sizeof v;
    cf_sys(getsockopt(s, IPPROTO_UDPLITE, name, &v, &l));
    return v;
}

int main(void)
{
    struct sockaddr_storage a, b;
    int s = socket(FAMILY, SOCK_DGRAM, IPPROTO_UDPLITE), c = socket(FAMILY, SOCK_DGRAM, IPPROTO_UDPLITE);
    if (s < 0 && (errno == EPROTONOSUPPORT || errno == ESOCKTNOSUPPORT)) {
        cf_ready(); /* a kernel without UDP-Lite: nothing to keep */
        cf_wait();
        cf_pass();
    }
    cf_sys(s);
    cf_sys(c);
    int cov = 20, rcov = 16;
    cf_sys(setsockopt(c, IPPROTO_UDPLITE, UDPLITE_SEND_CSCOV, &cov, sizeof cov));
    cf_sys(setsockopt(s, IPPROTO_UDPLITE, UDPLITE_RECV_CSCOV, &rcov, sizeof rcov));
    socklen_t alen = cf_loopback(FAMILY, 0, &a);
    cf_sys(bind(s, (void *)&a, alen));
    alen = sizeof a;
    cf_sys(getsockname(s, (void *)&a, &alen));
    cf_sys(connect(c, (void *)&a, alen));
    socklen_t blen = sizeof b;
    cf_sys(getsockname(c, (void *)&b, &blen));
    char wa[160], wb[160];
    snprintf(wa, sizeof wa, "%s", cf_addr_str(&a, alen));
    snprintf(wb, sizeof wb, "%s", cf_addr_str(&b, blen));
    cf_check(send(c, "queued", 6, 0) == 6, "send before the checkpoint: %s", strerror(errno));
    cf_check(cf_readable(s, 5), "the first datagram did not arrive");
    cf_ready();
    cf_wait();
    int proto = -1;
    socklen_t pl = sizeof proto;
    cf_sys(getsockopt(c, SOL_SOCKET, SO_PROTOCOL, &proto, &pl));
    cf_check(proto == IPPROTO_UDPLITE, "protocol of the connected socket: expected %d (UDP-Lite), got %d",
             IPPROTO_UDPLITE, proto);
    pl = sizeof proto;
    cf_sys(getsockopt(s, SOL_SOCKET, SO_PROTOCOL, &proto, &pl));
    cf_check(proto == IPPROTO_UDPLITE, "protocol of the bound socket: expected %d (UDP-Lite), got %d",
             IPPROTO_UDPLITE, proto);
    cf_check(opt(c, UDPLITE_SEND_CSCOV) == cov, "UDPLITE_SEND_CSCOV: expected %d, got %d", cov,
             opt(c, UDPLITE_SEND_CSCOV));
    cf_check(opt(s, UDPLITE_RECV_CSCOV) == rcov, "UDPLITE_RECV_CSCOV: expected %d, got %d", rcov,
             opt(s, UDPLITE_RECV_CSCOV));
    cf_check(strcmp(cf_sockname(c, 1), wa) == 0, "peer of the connected socket: expected %s, got %s", wa, cf_sockname(c, 1));
    cf_check(strcmp(cf_sockname(c, 0), wb) == 0, "its own address: expected %s, got %s", wb, cf_sockname(c, 0));
    char buf[8] = "";
    cf_check(recv(s, buf, sizeof buf, MSG_DONTWAIT) == 6 && memcmp(buf, "queued", 6) == 0,
             "the datagram queued at the checkpoint: got '%s'", buf);
    cf_check(send(c, "ping", 4, 0) == 4, "send on the connected socket: %s", strerror(errno));
    cf_check(cf_readable(s, 5), "the datagram did not reach %s", wa);
    struct sockaddr_storage from;
    socklen_t flen = sizeof from;
    cf_check(recvfrom(s, buf, sizeof buf, 0, (void *)&from, &flen) == 4 && memcmp(buf, "ping", 4) == 0, "received '%s'", buf);
    cf_check(strcmp(cf_addr_str(&from, flen), wb) == 0, "sender: expected %s, got %s", wb, cf_addr_str(&from, flen));
    cf_check(sendto(s, "pong", 4, 0, (void *)&from, flen) == 4, "sendto back: %s", strerror(errno));
    cf_check(cf_readable(c, 5), "the reply did not reach %s", wb);
    cf_check(recv(c, buf, sizeof buf, 0) == 4 && memcmp(buf, "pong", 4) == 0, "reply '%s'", buf);
    cf_pass();
}
