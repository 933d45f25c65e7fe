/* A named FIFO open read-write, with data in it, whose path was deleted. */
#include "conf.h"
#include <sys/stat.h>

int main(void)
{
    cf_sys(mkfifo("pipe", 0600));
    int fd = open("pipe", O_RDWR);
    cf_sys(fd);
    cf_write_all(fd, "in the fifo", 11);
    cf_sys(unlink("pipe"));
    cf_ready();
    cf_wait();
    struct stat st;
    cf_sys(fstat(fd, &st));
    cf_check(S_ISFIFO(st.st_mode), "expected a FIFO, got mode 0%o", (unsigned)st.st_mode);
    cf_check(access("pipe", F_OK) < 0, "the deleted path is there again");
    char buf[16] = "";
    cf_check(cf_readable(fd, 2) && read(fd, buf, sizeof buf) == 11 && memcmp(buf, "in the fifo", 11) == 0,
             "data: expected 'in the fifo', got '%s'", buf);
    cf_pass();
}
