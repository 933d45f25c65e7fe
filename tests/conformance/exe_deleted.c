/* A program whose executable was deleted while it runs (a copy of itself, run and
 * removed): /proc/self/exe names the deleted file, and the program runs on. */
#include "conf.h"
#include <limits.h>
#include <sys/stat.h>

int main(int argc, char **argv)
{
    (void)argv;
    char path[PATH_MAX];
    if (argc == 1) { /* copy ourselves to ./copy-of-exe and run the copy */
        int in = open("/proc/self/exe", O_RDONLY), out = open("copy-of-exe", O_WRONLY | O_CREAT | O_TRUNC, 0700);
        cf_sys(in);
        cf_sys(out);
        char buf[65536];
        ssize_t n;
        while ((n = read(in, buf, sizeof buf)) > 0)
            cf_write_all(out, buf, (size_t)n);
        close(in);
        close(out);
        char *args[] = { "copy-of-exe", "copy", NULL };
        execv("copy-of-exe", args);
        cf_fail("execv of the copy: %s", strerror(errno));
    }
    cf_check(getcwd(path, sizeof path - 32) != NULL, "getcwd");
    strcat(path, "/copy-of-exe (deleted)");
    cf_sys(unlink("copy-of-exe"));
    cf_ready();
    cf_wait();
    char got[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", got, sizeof got - 1);
    cf_sys(n);
    got[n] = 0;
    cf_check(strcmp(got, path) == 0, "/proc/self/exe: expected '%s', got '%s'", path, got);
    cf_pass();
}
