/* udplite_cscov over IPv6 (::1) */
#define FAMILY AF_INET6
#include "udplite_cscov.c"
