/* An established IPv4-in-IPv6 connection with 2 MiB queued one way and 3 MiB the other: every byte comes back in order. */
#include "tcp_conf.h"

int main(void)
{
    tc_established(TC_MAPPED, 2u << 20, 3u << 20);
}
