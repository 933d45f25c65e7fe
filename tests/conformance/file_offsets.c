/* Regular files open read-only, write-only and read-write at various offsets,
 * one past its end. */
#include "conf.h"

int main(void)
{
    int w = open("data", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    cf_sys(w);
    cf_write_all(w, "abcdefghijklmnopqrstuvwxyz", 26);
    int r = open("data", O_RDONLY), rw = open("data", O_RDWR);
    cf_sys(r);
    cf_sys(rw);
    cf_sys(lseek(r, 3, SEEK_SET));
    cf_sys(lseek(rw, 40, SEEK_SET));
    int fds[] = { w, r, rw }, acc[] = { O_WRONLY, O_RDONLY, O_RDWR };
    off_t pos[] = { 26, 3, 40 };
    cf_ready();
    cf_wait();
    for (int i = 0; i < 3; i++) {
        off_t p = lseek(fds[i], 0, SEEK_CUR);
        cf_check(p == pos[i], "fd %d offset: expected %lld, got %lld", fds[i], (long long)pos[i], (long long)p);
        int a = fcntl(fds[i], F_GETFL) & O_ACCMODE;
        cf_check(a == acc[i], "fd %d access mode: expected %d, got %d", fds[i], acc[i], a);
    }
    char c = 0;
    cf_check(read(r, &c, 1) == 1 && c == 'd', "reading at 3: expected 'd', got '%c'", c);
    cf_pass();
}
