#include "control.h"

#include <stddef.h>
#include <string.h>

socklen_t cr_ctl_address(pid_t pid, struct sockaddr_un *addr)
{
    static const char prefix[] = "slurm-cr/";
    char digits[16];
    int n = 0;
    unsigned v = (unsigned)pid;
    do
        digits[n++] = (char)('0' + v % 10);
    while ((v /= 10) && n < (int)sizeof digits);

    memset(addr, 0, sizeof *addr);
    addr->sun_family = AF_UNIX;
    char *p = addr->sun_path + 1; /* leading NUL: abstract namespace */
    memcpy(p, prefix, sizeof prefix - 1);
    p += sizeof prefix - 1;
    while (n)
        *p++ = digits[--n];
    return (socklen_t)(p - (char *)addr);
}
