/* umask 027: kept, and a file created afterwards gets mode 0640. */
#include "conf.h"
#include <sys/stat.h>

int main(void)
{
    umask(027);
    cf_ready();
    cf_wait();
    mode_t m = umask(027);
    cf_check(m == 027, "umask: expected 027, got %03o", (unsigned)m);
    cf_check(strcmp(cf_proc_field("/proc/self/status", "Umask:"), "0027") == 0,
             "/proc/self/status Umask: expected 0027, got '%s'", cf_proc_field("/proc/self/status", "Umask:"));
    int fd = open("created", O_CREAT | O_EXCL | O_WRONLY, 0666);
    cf_sys(fd);
    struct stat st;
    cf_sys(fstat(fd, &st));
    cf_check((st.st_mode & 07777) == 0640, "a new file's mode: expected 0640, got %04o", (unsigned)(st.st_mode & 07777));
    unlink("created");
    cf_pass();
}
