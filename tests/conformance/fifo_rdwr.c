/* A FIFO opened O_RDWR alone (no other reader or writer) with bytes in it: after the
 * restart the fd still reads them, then writes and reads through itself. */
#include "conf.h"
#include <sys/stat.h>

int main(void)
{
    cf_sys(mkfifo("rdwr.fifo", 0600));
    int f = open("rdwr.fifo", O_RDWR | O_NONBLOCK);
    cf_sys(f);
    cf_write_all(f, "inside", 6);
    cf_ready();
    cf_wait();
    cf_check((fcntl(f, F_GETFL) & O_ACCMODE) == O_RDWR, "not O_RDWR any more");
    char buf[8];
    cf_check(read(f, buf, 8) == 6 && !memcmp(buf, "inside", 6), "the bytes in the FIFO are gone");
    cf_write_all(f, "again", 5);
    cf_check(read(f, buf, 8) == 5 && !memcmp(buf, "again", 5), "it no longer reads what it writes");
    struct stat a, b;
    cf_sys(fstat(f, &a));
    cf_sys(stat("rdwr.fifo", &b));
    cf_check(a.st_ino == b.st_ino, "the fd is not the FIFO on disk");
    cf_pass();
}
