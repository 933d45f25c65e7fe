/* udp4_bound over IPv6 (::1) */
#define FAMILY AF_INET6
#include "udp4_bound.c"
