/* A process that made itself the leader of its process group. */
#include "conf.h"

int main(void)
{
    cf_sys(setpgid(0, 0));
    cf_ready();
    cf_wait();
    cf_check(getpgrp() == getpid(), "process group: expected %d (its own), got %d", (int)getpid(), (int)getpgrp());
    cf_pass();
}
