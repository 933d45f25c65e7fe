/* An established IPv6 connection inside the process, a few bytes queued each way, options on each end: addresses, options and data come back, and it still carries data. */
#include "tcp_conf.h"

int main(void)
{
    tc_established(TC_V6, 9, 17);
}
