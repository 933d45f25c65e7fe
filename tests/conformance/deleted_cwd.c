/* A working directory that was deleted: still the cwd (the same, deleted,
 * directory, no files can be made in it). */
#include "conf.h"
#include <limits.h>
#include <sys/stat.h>

int main(void)
{
    char base[PATH_MAX], want[PATH_MAX + 16], got[PATH_MAX];
    cf_check(getcwd(base, sizeof base) != NULL, "getcwd: %s", strerror(errno));
    cf_sys(mkdir("gone", 0755));
    cf_sys(chdir("gone"));
    cf_sys(rmdir("../gone"));
    snprintf(want, sizeof want, "%s/gone (deleted)", base);
    cf_ready();
    cf_wait();
    ssize_t n = readlink("/proc/self/cwd", got, sizeof got - 1);
    cf_sys(n);
    got[n] = 0;
    cf_check(strcmp(got, want) == 0, "/proc/self/cwd: expected '%s', got '%s'", want, got);
    struct stat st;
    cf_sys(stat(".", &st));
    cf_check(S_ISDIR(st.st_mode) && st.st_nlink == 0, "'.': expected a deleted directory, got mode 0%o links %lu",
             (unsigned)st.st_mode, (unsigned long)st.st_nlink);
    int r = open("new", O_CREAT | O_WRONLY, 0600);
    cf_check(r < 0 && errno == ENOENT, "creating a file in it: expected ENOENT, got %s", r >= 0 ? "created" : strerror(errno));
    cf_pass();
}
