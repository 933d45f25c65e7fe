/* PR_SET_NAME: the name (comm) of the process. */
#include "conf.h"
#include <sys/prctl.h>

int main(void)
{
    cf_sys(prctl(PR_SET_NAME, "conf-renamed", 0, 0, 0));
    cf_ready();
    cf_wait();
    char name[17] = "";
    cf_sys(prctl(PR_GET_NAME, name, 0, 0, 0));
    cf_check(strcmp(name, "conf-renamed") == 0, "PR_GET_NAME: expected 'conf-renamed', got '%s'", name);
    const char *comm = cf_proc_field("/proc/self/comm", "");
    cf_check(strcmp(comm, "conf-renamed") == 0, "/proc/self/comm: expected 'conf-renamed', got '%s'", comm);
    cf_pass();
}
