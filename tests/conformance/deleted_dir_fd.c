/* An open directory that was deleted: still a directory, deleted, empty. */
#include "conf.h"
#include <dirent.h>
#include <sys/stat.h>

int main(void)
{
    cf_sys(mkdir("dir", 0750));
    int fd = open("dir", O_RDONLY | O_DIRECTORY);
    cf_sys(fd);
    cf_sys(rmdir("dir"));
    cf_ready();
    cf_wait();
    struct stat st;
    cf_sys(fstat(fd, &st));
    cf_check(S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0750, "expected a directory of mode 0750, got mode 0%o", (unsigned)st.st_mode);
    cf_check(st.st_nlink == 0, "links: expected 0 (deleted), got %lu", (unsigned long)st.st_nlink);
    int r = openat(fd, "x", O_CREAT | O_WRONLY, 0600);
    cf_check(r < 0 && errno == ENOENT, "creating a file in it: expected ENOENT, got %s", r >= 0 ? "created" : strerror(errno));
    char link[64], path[512];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    cf_sys(n);
    path[n] = 0;
    cf_check(n > 14 && strcmp(path + n - 14, "/dir (deleted)") == 0,
             "its name: expected '.../dir (deleted)', got '%s'", path);
    cf_pass();
}
