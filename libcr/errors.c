/* cr_strerror(): the texts of BLCR's error codes, and strerror() for the rest.
 * The texts sit next to the names in blcr_errcodes.h, so the two cannot drift. */
#include <string.h>

#include "libcr.h"

__attribute__((visibility("default"))) const char *cr_strerror(int errnum)
{
#define CR_ERROR_DEF(name, desc) [name - CR_ETEMPFAIL] = desc,
    static const char *const texts[] = {
#include "blcr_errcodes.h"
    };
#undef CR_ERROR_DEF
    if (errnum < 0)
        errnum = -errnum;
    if (errnum >= CR_ETEMPFAIL && errnum < CR_MAX_ERRCODE)
        return texts[errnum - CR_ETEMPFAIL];
    return strerror(errnum);
}
