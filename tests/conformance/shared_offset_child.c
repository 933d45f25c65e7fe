/* An open file inherited by a child: parent and child share one offset; the child
 * moves it afterwards and the parent sees it move. */
#include "conf.h"

int main(void)
{
    int fd = open("common", O_RDWR | O_CREAT | O_TRUNC, 0600);
    cf_sys(fd);
    cf_write_all(fd, "0123456789", 10);
    cf_sys(lseek(fd, 2, SEEK_SET));
    int go[2], done[2];
    cf_sys(pipe(go));
    cf_sys(pipe(done));
    pid_t c = fork();
    cf_sys(c);
    if (c == 0) {
        char b;
        close(go[1]);
        if (read(go[0], &b, 1) != 1)
            _exit(1);
        lseek(fd, 7, SEEK_SET);
        _exit(write(done[1], "d", 1) == 1 ? 0 : 1);
    }
    close(go[0]);
    close(done[1]);
    cf_ready();
    cf_wait();
    cf_check(lseek(fd, 0, SEEK_CUR) == 2, "offset: expected 2, got %lld", (long long)lseek(fd, 0, SEEK_CUR));
    cf_write_all(go[1], "g", 1);
    char b;
    cf_check(cf_readable(done[0], 10) && read(done[0], &b, 1) == 1, "the child did not answer");
    cf_check(lseek(fd, 0, SEEK_CUR) == 7, "the child moved the shared offset to 7; the parent sees %lld", (long long)lseek(fd, 0, SEEK_CUR));
    cf_waitpid(c, 10, "the child");
    cf_pass();
}
