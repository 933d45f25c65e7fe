/* The floating-point state of two threads: the main thread rounds upward with the
 * inexact flag raised, another rounds toward zero with x87 extended values in use; each
 * keeps its mode and flags after the restart, and computes as before. */
#include "conf.h"
#include <fenv.h>
#include <pthread.h>

static int ready[2], go[2], done[2];
static volatile int other_mode = -1, other_inexact = -1;
static volatile long double other_sum;

static void *other(void *arg)
{
    (void)arg;
    fesetround(FE_TOWARDZERO);
    volatile long double one = 1.0L, three = 3.0L;
    volatile long double x = one / three; /* computed now, not by the compiler */
    feclearexcept(FE_ALL_EXCEPT);
    char c = 'r';
    if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
        return NULL;
    other_mode = fegetround();
    other_inexact = fetestexcept(FE_INEXACT) != 0;
    other_sum = x * three;
    c = 'd';
    if (write(done[1], &c, 1) != 1)
        return NULL;
    return NULL;
}

int main(void)
{
    cf_sys(pipe(ready));
    cf_sys(pipe(go));
    cf_sys(pipe(done));
    pthread_t t;
    cf_block_usr2(); /* (in the thread too: the kernel may give the process's SIGUSR2 to any thread that lets it in) */
    cf_check(pthread_create(&t, NULL, other, NULL) == 0, "pthread_create failed");
    char c;
    cf_check(cf_readable(ready[0], 10) && read(ready[0], &c, 1) == 1, "the thread did not start");
    fesetround(FE_UPWARD);
    volatile double one = 1.0, three = 3.0;
    volatile double third = one / three; /* inexact */
    (void)third;
    cf_ready();
    cf_wait();
    cf_check(fegetround() == FE_UPWARD, "main thread: rounding mode %d, expected FE_UPWARD (%d)", fegetround(), FE_UPWARD);
    cf_check(fetestexcept(FE_INEXACT), "main thread: the inexact flag raised before was lost");
    volatile double up = one / three;
    fesetround(FE_DOWNWARD);
    volatile double down = one / three;
    cf_check(up > down, "main thread: rounding upward does not round up");
    cf_write_all(go[1], "g", 1);
    cf_check(cf_readable(done[0], 10) && read(done[0], &c, 1) == 1, "the thread did not answer");
    cf_check(other_mode == FE_TOWARDZERO, "other thread: rounding mode %d, expected FE_TOWARDZERO (%d)", other_mode,
             FE_TOWARDZERO);
    cf_check(other_inexact == 0, "other thread: an inexact flag it had cleared is raised");
    cf_check(other_sum < 1.0L, "other thread: x87 rounding toward zero lost (3 * (1/3) = %Lg)", other_sum);
    pthread_join(t, NULL);
    cf_pass();
}
