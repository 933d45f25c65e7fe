/* The process's own pid and its child's, as getpid() and fork() gave them, name them
 * in /proc after a restart too: /proc/PID/status and /proc/CHILD/stat (opened, fopen'd,
 * stat'ed) describe them with those pids, and /proc/self reads as the process's pid. */
#include "conf.h"
#include <sys/stat.h>

/* the number after `key` in /proc/PID/status, read through open() and read() */
static long status_field(pid_t pid, const char *key)
{
    char path[64], buf[8192];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    int fd = open(path, O_RDONLY);
    cf_check(fd >= 0, "open %s: %s", path, strerror(errno));
    ssize_t n = read(fd, buf, sizeof buf - 1);
    cf_check(n > 0, "read %s: %s", path, n < 0 ? strerror(errno) : "empty");
    close(fd);
    buf[n] = 0;
    char want[32];
    snprintf(want, sizeof want, "\n%s\t", key);
    char *p = strstr(buf, want);
    cf_check(p != NULL, "%s has no %s line", path, key);
    return strtol(p + strlen(want), NULL, 10);
}

int main(void)
{
    pid_t child = cf_fork_sleeper();
    cf_ready();
    cf_wait();
    pid_t self = getpid();
    cf_check(status_field(self, "Pid:") == self, "/proc/%d/status: Pid %ld, expected %d", (int)self,
             status_field(self, "Pid:"), (int)self);
    cf_check(status_field(child, "PPid:") == self, "/proc/%d/status (the child): PPid %ld, expected %d",
             (int)child, status_field(child, "PPid:"), (int)self);

    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)child);
    FILE *f = fopen(path, "r");
    cf_check(f != NULL, "fopen %s: %s", path, strerror(errno));
    cf_check(fileno(f) >= 0, "fileno of the stream of %s: %s", path, strerror(errno));
    int pid = 0, ppid = 0;
    char state = 0;
    cf_check(fscanf(f, "%d (%*[^)]) %c %d", &pid, &state, &ppid) == 3, "%s: not a stat line", path);
    cf_check(pid == child && ppid == self, "%s: pid %d ppid %d, expected %d and %d", path, pid, ppid,
             (int)child, (int)self);
    fclose(f);

    struct stat st;
    snprintf(path, sizeof path, "/proc/%d", (int)self);
    cf_check(stat(path, &st) == 0 && S_ISDIR(st.st_mode), "stat %s: %s", path, strerror(errno));
    snprintf(path, sizeof path, "/proc/%d/fd", (int)self);
    cf_check(access(path, R_OK) == 0, "access %s: %s", path, strerror(errno));

    char link[64] = "";
    ssize_t n = readlink("/proc/self", link, sizeof link - 1);
    cf_check(n > 0, "readlink /proc/self: %s", strerror(errno));
    link[n] = 0;
    cf_check(atoi(link) == self, "readlink /proc/self: '%s', expected %d", link, (int)self);

    kill(child, SIGKILL);
    cf_waitpid(child, 10, "the child");
    cf_pass();
}
