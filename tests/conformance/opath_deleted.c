/* O_PATH fds of a deleted file (its contents reachable through /proc/self/fd) and of
 * a directory: still O_PATH, the file deleted with its mode and contents, the
 * directory one to open files relative to. */
#include "conf.h"
#include <sys/stat.h>

int main(void)
{
    int w = open("gone", O_WRONLY | O_CREAT | O_TRUNC, 0640);
    cf_sys(w);
    cf_write_all(w, "kept contents", 13);
    close(w);
    int fd = open("gone", O_PATH);
    cf_sys(fd);
    cf_sys(unlink("gone"));
    cf_sys(mkdir("dir", 0755));
    int dir = open("dir", O_PATH | O_DIRECTORY);
    cf_sys(dir);
    cf_ready();
    cf_wait();
    cf_check(fcntl(fd, F_GETFL) & O_PATH, "F_GETFL of the file: expected O_PATH, got 0%o", fcntl(fd, F_GETFL));
    cf_check(fcntl(dir, F_GETFL) & O_PATH, "F_GETFL of the directory: expected O_PATH, got 0%o", fcntl(dir, F_GETFL));
    struct stat st;
    cf_sys(fstat(fd, &st));
    cf_check(st.st_nlink == 0 && (st.st_mode & 0777) == 0640 && st.st_size == 13,
             "the file: expected deleted, mode 0640, 13 bytes; got %lu links, mode %03o, %lld bytes",
             (unsigned long)st.st_nlink, (unsigned)(st.st_mode & 0777), (long long)st.st_size);
    char path[64], buf[16] = "";
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    int r = open(path, O_RDONLY);
    cf_check(r >= 0 && read(r, buf, sizeof buf) == 13 && !memcmp(buf, "kept contents", 13),
             "its contents through %s: '%s' (%s)", path, buf, r < 0 ? strerror(errno) : "");
    int made = openat(dir, "inside", O_CREAT | O_WRONLY, 0600);
    cf_check(made >= 0 && access("dir/inside", F_OK) == 0, "a file opened relative to the directory's O_PATH fd: %s",
             made < 0 ? strerror(errno) : "not in dir");
    cf_pass();
}
