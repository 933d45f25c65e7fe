/* libFuzzer harness for what the runtime reads from its control socket: a request,
 * and a tree's PREPARE; what the checks accept is then walked the way the dump walks
 * it, so that a count they let through beyond its array shows (make fuzz). */
#include <stdint.h>
#include <string.h>

#include "control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct cr_ctl_prepare p;
    struct cr_ctl_request r;
    if (size <= sizeof r) {
        memset(&r, 0, sizeof r);
        memcpy(&r, data, size);
        (void)cr_ctl_request_check(&r, size);
        return 0;
    }
    memset(&p, 0, sizeof p);
    memcpy(&p, data, size < sizeof p ? size : sizeof p);
    if (cr_ctl_prepare_check(&p) < 0)
        return 0;
    volatile uint64_t sum = 0;
    for (uint32_t i = 0; i < p.npipes; i++)
        sum += p.pipes[i];
    for (uint32_t i = 0; i < p.nsocks; i++)
        sum += p.socks[i];
    for (uint32_t i = 0; i < p.nptys; i++)
        sum += (uint64_t)p.ptys[i];
    for (uint32_t i = 0; i < p.nfifo_skip; i++)
        sum += p.fifo_skip[i];
    for (uint32_t i = 0; i < p.nshares; i++)
        sum += (uint64_t)p.shares[i].fd;
    return 0;
}
