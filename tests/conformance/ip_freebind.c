/* IP_FREEBIND on a UDP socket bound to an address this host does not have. */
#include "conf.h"

int main(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    inet_pton(AF_INET, "203.0.113.7", &a.sin_addr);
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    cf_sys(s);
    cf_setint(s, IPPROTO_IP, IP_FREEBIND, 1);
    cf_sys(bind(s, (void *)&a, sizeof a));
    char want[160];
    snprintf(want, sizeof want, "%s", cf_sockname(s, 0));
    cf_ready();
    cf_wait();
    cf_check(cf_getint(s, IPPROTO_IP, IP_FREEBIND) == 1, "IP_FREEBIND: expected 1, got 0");
    cf_check(strcmp(cf_sockname(s, 0), want) == 0, "address: expected %s, got %s", want, cf_sockname(s, 0));
    cf_pass();
}
