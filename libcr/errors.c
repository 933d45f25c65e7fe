/* cr_strerror(): the texts of BLCR's error codes, and strerror() for the rest. */
#include <string.h>

#include "libcr.h"

__attribute__((visibility("default"))) const char *cr_strerror(int errnum)
{
    static const char *const texts[] = {
        [CR_ETEMPFAIL - CR_ETEMPFAIL] = "Temporary failure: a callback cancelled the checkpoint",
        [CR_EPERMFAIL - CR_ETEMPFAIL] = "Permanent failure: checkpoint cancelled and the process ended",
        [CR_ENOSUPPORT - CR_ETEMPFAIL] = "The process does not run the slurm-cr runtime (start it with cr_run)",
        [CR_EVERSION - CR_ETEMPFAIL] = "Interface version not supported",
        [CR_EOMITTED - CR_ETEMPFAIL] = "Process left out of the checkpoint at a callback's request",
        [CR_EBADARCH - CR_ETEMPFAIL] = "Context file made on another architecture",
        [CR_EPTRACED - CR_ETEMPFAIL] = "A target process is being ptraced",
        [CR_EPTRACER - CR_ETEMPFAIL] = "A target process is ptracing others",
        [CR_ERSTRTABRT - CR_ETEMPFAIL] = "Restart aborted",
        [CR_ERESTARTED - CR_ETEMPFAIL] = "This is the restarted copy of the process",
        [CR_ENOTCB - CR_ETEMPFAIL] = "Allowed only inside a checkpoint callback",
        [CR_ENOINIT - CR_ETEMPFAIL] = "The calling thread has not called cr_init()",
    };
    if (errnum < 0)
        errnum = -errnum;
    if (errnum >= CR_ETEMPFAIL && errnum < CR_MAX_ERRCODE)
        return texts[errnum - CR_ETEMPFAIL];
    return strerror(errnum);
}
