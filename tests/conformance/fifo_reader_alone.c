/* A FIFO opened O_RDONLY | O_NONBLOCK with no writer: after the restart it still reads
 * end of file (no writer was made up), and a writer opened then is heard. */
#include "conf.h"
#include <sys/stat.h>

int main(void)
{
    cf_sys(mkfifo("alone.fifo", 0600));
    int f = open("alone.fifo", O_RDONLY | O_NONBLOCK);
    cf_sys(f);
    char c;
    cf_check(read(f, &c, 1) == 0, "a FIFO without writer does not read end of file before the checkpoint");
    cf_ready();
    cf_wait();
    errno = 0;
    ssize_t n = read(f, &c, 1);
    cf_check(n == 0, "without a writer: expected end of file, got %zd (%s)", n, n < 0 ? strerror(errno) : "data");
    int w = open("alone.fifo", O_WRONLY | O_NONBLOCK);
    cf_check(w >= 0, "opening a writer: %s (the reader is gone?)", strerror(errno));
    cf_write_all(w, "z", 1);
    cf_check(read(f, &c, 1) == 1 && c == 'z', "the reader does not hear the new writer");
    cf_pass();
}
