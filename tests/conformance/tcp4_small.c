/* An established IPv4 connection inside the process, a few bytes queued each way, options on each end: addresses, options and data come back, and it still carries data. */
#include "tcp_conf.h"

int main(void)
{
    tc_established(TC_V4, 9, 17);
}
