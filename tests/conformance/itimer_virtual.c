/* itimer_real for ITIMER_VIRTUAL (SIGVTALRM) */
#include <sys/time.h>
#define WHICH ITIMER_VIRTUAL
#define WHICH_NAME "ITIMER_VIRTUAL"
#define SIG SIGVTALRM
#include "itimer_real.c"
