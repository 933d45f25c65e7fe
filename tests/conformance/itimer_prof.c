/* itimer_real for ITIMER_PROF (SIGPROF) */
#include <sys/time.h>
#define WHICH ITIMER_PROF
#define WHICH_NAME "ITIMER_PROF"
#define SIG SIGPROF
#include "itimer_real.c"
