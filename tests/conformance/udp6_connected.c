/* udp4_connected over IPv6 (::1) */
#define FAMILY AF_INET6
#include "udp4_connected.c"
