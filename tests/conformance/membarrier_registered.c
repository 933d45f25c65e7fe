/* membarrier(2) registrations for private expedited barriers (plain, sync-core as the
 * kernel supports them): a registered process's barriers work, an unregistered one's
 * fail with EPERM; after a restart they must still work. */
#include "conf.h"

#include <linux/membarrier.h>

static int barrier(int cmd) { return (int)syscall(SYS_membarrier, cmd, 0, 0); }

int main(void)
{
    int supported = barrier(MEMBARRIER_CMD_QUERY);
    cf_check(supported >= 0, "membarrier(QUERY): %s", strerror(errno));
    cf_check(supported & MEMBARRIER_CMD_PRIVATE_EXPEDITED, "no private expedited barriers here");
    cf_check(barrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) < 0 && errno == EPERM,
             "a barrier worked before the process registered");
    cf_sys(barrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED));
    int sync_core = supported & MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE;
    if (sync_core)
        cf_sys(barrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE));
    cf_ready();
    cf_wait();
    cf_check(barrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0,
             "private expedited barrier: %s (the registration was lost)", strerror(errno));
    cf_check(!sync_core || barrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE) == 0,
             "sync-core barrier: %s (the registration was lost)", strerror(errno));
    cf_pass();
}
