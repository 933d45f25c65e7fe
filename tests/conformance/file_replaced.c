/* A file open while another file was renamed over its name: the fd still reads the
 * old file (now nameless), the name gives the new one. */
#include "conf.h"

int main(void)
{
    int fd = open("name", O_RDWR | O_CREAT | O_TRUNC, 0600);
    cf_sys(fd);
    cf_write_all(fd, "old contents", 12);
    int n = open("name.new", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    cf_sys(n);
    cf_write_all(n, "new", 3);
    close(n);
    cf_sys(rename("name.new", "name"));
    cf_ready();
    cf_wait();
    char buf[16] = "";
    cf_check(pread(fd, buf, sizeof buf, 0) == 12 && !memcmp(buf, "old contents", 12), "the fd: expected 'old contents', got '%s'", buf);
    int r = open("name", O_RDONLY);
    memset(buf, 0, sizeof buf);
    cf_check(r >= 0 && read(r, buf, sizeof buf) == 3 && !memcmp(buf, "new", 3), "the name: expected 'new', got '%s'", buf);
    cf_pass();
}
