/* Multicast memberships of UDP sockets on the loopback: an IPv4 group joined with
 * IP_ADD_MEMBERSHIP, a source-specific one (IP_ADD_SOURCE_MEMBERSHIP), one with a
 * blocked source (IP_BLOCK_SOURCE); an IPv6 group (IPV6_JOIN_GROUP), a
 * source-specific one (MCAST_JOIN_SOURCE_GROUP) and an IPv4 group joined by the IPv6
 * socket.  Afterwards each socket is a member of
 * the same groups with the same filters (MCAST_MSFILTER), and no other, and a datagram
 * sent to the IPv4 group arrives. */
#include "conf.h"
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>

struct filt {
    struct group_filter gf;
    struct sockaddr_storage more[8];
};

/* The filter of s for group g on ifindex: 0 and *f, or -errno (EADDRNOTAVAIL: no member). */
static int filter_of(int s, int level, const struct sockaddr_storage *g, socklen_t glen, int ifindex,
                     struct filt *f)
{
    memset(f, 0, sizeof *f);
    f->gf.gf_interface = (uint32_t)ifindex;
    memcpy(&f->gf.gf_group, g, glen);
    f->gf.gf_numsrc = 9;
    socklen_t len = sizeof *f;
    return getsockopt(s, level, MCAST_MSFILTER, f, &len) < 0 ? -errno : 0;
}

/* mode: MCAST_INCLUDE, MCAST_EXCLUDE, or -1 for a group it must not be a member of */
static void want(int s, int level, const char *group, int ifindex, int mode, const char *src)
{
    struct sockaddr_storage g;
    socklen_t glen;
    memset(&g, 0, sizeof g);
    if (level == IPPROTO_IP) {
        struct sockaddr_in *a = (void *)&g;
        a->sin_family = AF_INET;
        inet_pton(AF_INET, group, &a->sin_addr);
        glen = sizeof *a;
    } else {
        struct sockaddr_in6 *a = (void *)&g;
        a->sin6_family = AF_INET6;
        inet_pton(AF_INET6, group, &a->sin6_addr);
        glen = sizeof *a;
    }
    struct filt f;
    int rc = filter_of(s, level, &g, glen, ifindex, &f);
    if (mode < 0) {
        cf_check(rc == -EADDRNOTAVAIL, "member of %s, which it never joined (%s)", group, strerror(-rc));
        return;
    }
    cf_check(rc == 0, "no longer a member of %s on interface %d: %s", group, ifindex, strerror(-rc));
    cf_check(f.gf.gf_fmode == (uint32_t)mode, "%s: filter mode %u, expected %d", group, f.gf.gf_fmode, mode);
    cf_check(f.gf.gf_numsrc == (src ? 1u : 0u), "%s: %u sources in its filter, expected %d", group,
             f.gf.gf_numsrc, src ? 1 : 0);
    if (src) {
        char got[INET6_ADDRSTRLEN] = "";
        const struct sockaddr_storage *ss = &f.gf.gf_slist[0];
        if (level == IPPROTO_IP)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, got, sizeof got);
        else
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, got, sizeof got);
        cf_check(strcmp(got, src) == 0, "%s: source %s in its filter, expected %s", group, got, src);
    }
}

int main(void)
{
    int lo = (int)if_nametoindex("lo");
    cf_check(lo > 0, "no loopback interface");
    int s4 = socket(AF_INET, SOCK_DGRAM, 0), s6 = socket(AF_INET6, SOCK_DGRAM, 0);
    cf_sys(s4);
    cf_sys(s6);
    struct sockaddr_in any = { .sin_family = AF_INET };
    cf_sys(bind(s4, (void *)&any, sizeof any));
    socklen_t alen = sizeof any;
    cf_sys(getsockname(s4, (void *)&any, &alen));
    struct ip_mreqn m = { .imr_ifindex = lo };
    inet_pton(AF_INET, "239.1.2.3", &m.imr_multiaddr);
    cf_sys(setsockopt(s4, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m));
    struct ip_mreq_source ms = { .imr_interface.s_addr = htonl(INADDR_LOOPBACK) };
    inet_pton(AF_INET, "232.1.2.3", &ms.imr_multiaddr);
    inet_pton(AF_INET, "127.0.0.7", &ms.imr_sourceaddr);
    cf_sys(setsockopt(s4, IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP, &ms, sizeof ms));
    inet_pton(AF_INET, "239.4.5.6", &m.imr_multiaddr);
    cf_sys(setsockopt(s4, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m));
    inet_pton(AF_INET, "239.4.5.6", &ms.imr_multiaddr);
    inet_pton(AF_INET, "127.0.0.9", &ms.imr_sourceaddr);
    cf_sys(setsockopt(s4, IPPROTO_IP, IP_BLOCK_SOURCE, &ms, sizeof ms));
    struct ipv6_mreq m6 = { .ipv6mr_interface = (unsigned)lo };
    inet_pton(AF_INET6, "ff15::1234", &m6.ipv6mr_multiaddr);
    cf_sys(setsockopt(s6, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m6, sizeof m6));
    struct group_source_req gs = { .gsr_interface = (uint32_t)lo };
    struct sockaddr_in6 *g6 = (void *)&gs.gsr_group, *src6 = (void *)&gs.gsr_source;
    g6->sin6_family = src6->sin6_family = AF_INET6;
    inet_pton(AF_INET6, "ff35::1:2", &g6->sin6_addr);
    inet_pton(AF_INET6, "::1", &src6->sin6_addr);
    cf_sys(setsockopt(s6, IPPROTO_IPV6, MCAST_JOIN_SOURCE_GROUP, &gs, sizeof gs));
    struct group_req gr4 = { .gr_interface = (uint32_t)lo }; /* an IPv4 group, on the IPv6 socket */
    struct sockaddr_in *g4 = (void *)&gr4.gr_group;
    g4->sin_family = AF_INET;
    inet_pton(AF_INET, "239.5.5.5", &g4->sin_addr);
    cf_sys(setsockopt(s6, IPPROTO_IP, MCAST_JOIN_GROUP, &gr4, sizeof gr4));
    cf_ready();
    cf_wait();
    want(s4, IPPROTO_IP, "239.1.2.3", lo, MCAST_EXCLUDE, NULL);
    want(s4, IPPROTO_IP, "232.1.2.3", lo, MCAST_INCLUDE, "127.0.0.7");
    want(s4, IPPROTO_IP, "239.4.5.6", lo, MCAST_EXCLUDE, "127.0.0.9");
    want(s4, IPPROTO_IP, "239.9.9.9", lo, -1, NULL);
    want(s6, IPPROTO_IPV6, "ff15::1234", lo, MCAST_EXCLUDE, NULL);
    want(s6, IPPROTO_IPV6, "ff35::1:2", lo, MCAST_INCLUDE, "::1");
    want(s6, IPPROTO_IPV6, "ff15::9999", lo, -1, NULL);
    want(s6, IPPROTO_IP, "239.5.5.5", lo, MCAST_EXCLUDE, NULL);
    want(s6, IPPROTO_IP, "239.1.2.3", lo, -1, NULL);
    /* the membership is the kernel's: a datagram to the group, sent on the loopback, arrives */
    int out = socket(AF_INET, SOCK_DGRAM, 0);
    cf_sys(out);
    struct ip_mreqn mif = { .imr_ifindex = lo };
    cf_sys(setsockopt(out, IPPROTO_IP, IP_MULTICAST_IF, &mif, sizeof mif));
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = any.sin_port };
    inet_pton(AF_INET, "239.1.2.3", &to.sin_addr);
    cf_check(sendto(out, "mc", 2, 0, (void *)&to, sizeof to) == 2, "sendto 239.1.2.3: %s", strerror(errno));
    cf_check(cf_readable(s4, 5), "the datagram sent to 239.1.2.3 did not arrive");
    char buf[4] = "";
    cf_check(recv(s4, buf, sizeof buf, 0) == 2 && memcmp(buf, "mc", 2) == 0, "received '%s'", buf);
    cf_pass();
}
