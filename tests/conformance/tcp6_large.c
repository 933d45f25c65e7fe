/* An established IPv6 connection with 3 MiB queued one way and 1 MiB the other: every byte comes back in order. */
#include "tcp_conf.h"

int main(void)
{
    tc_established(TC_V6, 3u << 20, 1u << 20);
}
