/* An established IPv4 connection with 3 MiB queued each way (most of it unsent, in the sender's queue): every byte comes back in order, the program that goes on after the checkpoint included. */
#include "tcp_conf.h"

int main(void)
{
    tc_established(TC_V4, 3u << 20, 3u << 20);
}
