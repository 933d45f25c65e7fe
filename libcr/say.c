/* cr_say (say.h): one refusal, its message and its errno. */
#include "say.h"

#include <stdarg.h>
#include <stdio.h>

int cr_say(char *err, size_t len, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return -code;
}
