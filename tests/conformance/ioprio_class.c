/* The I/O priority set by the process (best effort, level 6; idle for a thread is
 * not asked): the same after the restart. */
#include "conf.h"

#define IOPRIO_CLASS_SHIFT 13
#define IOPRIO_WHO_PROCESS 1

int main(void)
{
    int want = (2 << IOPRIO_CLASS_SHIFT) | 6; /* IOPRIO_CLASS_BE, level 6 */
    cf_sys((int)syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, want));
    cf_ready();
    cf_wait();
    int got = (int)syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, 0);
    cf_check(got == want, "ioprio: expected class %d level %d, got class %d level %d", want >> IOPRIO_CLASS_SHIFT,
             want & 7, got >> IOPRIO_CLASS_SHIFT, got & 7);
    cf_pass();
}
