/* libcr_omit.so: preloaded by 'cr_run --omit', it loads the runtime and tells it to
 * leave this process (and, through LD_PRELOAD, its descendants) out of every
 * checkpoint: a request gets ESRCH and no file is written. */
#include "callbacks.h"

__attribute__((constructor)) static void cr_omit_init(void)
{
    cri_set_omit();
}
