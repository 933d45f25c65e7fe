/* personality(ADDR_NO_RANDOMIZE): the persona stays. */
#include "conf.h"
#include <sys/personality.h>

int main(void)
{
    cf_sys((int)personality(PER_LINUX | ADDR_NO_RANDOMIZE));
    cf_ready();
    cf_wait();
    long v = (long)personality(0xffffffff);
    cf_check(v == (PER_LINUX | ADDR_NO_RANDOMIZE), "personality: expected %ld, got %ld", (long)((PER_LINUX | ADDR_NO_RANDOMIZE)), v);
    cf_pass();
}
