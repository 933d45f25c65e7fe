/* An established connection of IPv6 sockets over IPv4 (::ffff:127.0.0.1, IPV6_V6ONLY off), a few bytes queued each way: the family, addresses, options and data come back. */
#include "tcp_conf.h"

int main(void)
{
    tc_established(TC_MAPPED, 9, 17);
}
