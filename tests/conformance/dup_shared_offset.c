/* Two fds dup'ed from one open file share an offset; a second open of the same file
 * has its own. */
#include "conf.h"

int main(void)
{
    int a = open("shared", O_RDWR | O_CREAT | O_TRUNC, 0600);
    cf_sys(a);
    cf_write_all(a, "0123456789abcdef", 16);
    int b = dup(a), c = open("shared", O_RDONLY);
    cf_sys(b);
    cf_sys(c);
    cf_sys(lseek(a, 4, SEEK_SET));
    cf_sys(lseek(c, 9, SEEK_SET));
    cf_ready();
    cf_wait();
    cf_check(lseek(b, 0, SEEK_CUR) == 4, "offset of the dup: expected 4, got %lld", (long long)lseek(b, 0, SEEK_CUR));
    cf_check(lseek(c, 0, SEEK_CUR) == 9, "offset of the second open: expected 9, got %lld", (long long)lseek(c, 0, SEEK_CUR));
    cf_sys(lseek(a, 12, SEEK_SET));
    cf_check(lseek(b, 0, SEEK_CUR) == 12, "the dup no longer shares the offset: moved one to 12, the other is at %lld",
             (long long)lseek(b, 0, SEEK_CUR));
    cf_check(lseek(c, 0, SEEK_CUR) == 9, "the second open moved with them: %lld", (long long)lseek(c, 0, SEEK_CUR));
    cf_pass();
}
