/* A named FIFO with a reader and a writer fd, and 20,000 bytes in it. */
#include "conf.h"
#include <sys/stat.h>

#define LEN 20000

int main(void)
{
    static char want[LEN], got[LEN];
    cf_sys(mkfifo("fifo", 0640));
    int r = open("fifo", O_RDONLY | O_NONBLOCK);
    cf_sys(r);
    int w = open("fifo", O_WRONLY);
    cf_sys(w);
    cf_fill(want, LEN, 9);
    cf_write_all(w, want, LEN);
    cf_ready();
    cf_wait();
    struct stat a, b;
    cf_sys(fstat(r, &a));
    cf_sys(stat("fifo", &b));
    cf_check(S_ISFIFO(a.st_mode) && a.st_ino == b.st_ino, "the read end is not the FIFO 'fifo'");
    cf_check((fcntl(r, F_GETFL) & O_ACCMODE) == O_RDONLY && (fcntl(w, F_GETFL) & O_ACCMODE) == O_WRONLY, "access modes differ");
    cf_read_all(r, got, LEN, "the FIFO");
    cf_check(memcmp(want, got, LEN) == 0, "the data in the FIFO differs");
    cf_check(read(r, got, 1) < 0 && errno == EAGAIN, "more than %d bytes in the FIFO", LEN);
    cf_write_all(w, "z", 1);
    cf_check(read(r, got, 1) == 1 && got[0] == 'z', "the writer no longer reaches the reader");
    cf_pass();
}
