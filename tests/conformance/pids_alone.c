/* A process restarted alone by a normal user sees the pids it saw before: its own, its
 * parent's, its group's and its session's (programs keep getpid() to tell a forked
 * child from themselves: Python's multiprocessing and asyncio, OpenSSL's fork check),
 * kill() and a wait reach the processes by them, and a child made after the restart
 * sees its parent as the pid the parent knows. */
#include "conf.h"

int main(void)
{
    pid_t pid = getpid(), ppid = getppid(), pgrp = getpgrp(), sid = getsid(0);
    cf_ready();
    cf_wait();
    cf_check(getpid() == pid, "getpid(): expected %d, got %d", (int)pid, (int)getpid());
    cf_check(getppid() == ppid, "getppid(): expected %d, got %d", (int)ppid, (int)getppid());
    cf_check(getpgrp() == pgrp, "getpgrp(): expected %d, got %d", (int)pgrp, (int)getpgrp());
    cf_check(getpgid(pid) == pgrp, "getpgid(%d): expected %d, got %d (%s)", (int)pid, (int)pgrp,
             (int)getpgid(pid), strerror(errno));
    cf_check(getsid(0) == sid, "getsid(0): expected %d, got %d", (int)sid, (int)getsid(0));
    cf_check(kill(pid, 0) == 0, "kill(%d, 0), its own pid: %s", (int)pid, strerror(errno));
    int p[2];
    cf_sys(pipe(p));
    pid_t child = fork();
    cf_sys(child);
    if (child == 0) {
        pid_t seen[2] = { getppid(), getpgrp() };
        _exit(write(p[1], seen, sizeof seen) == (ssize_t)sizeof seen ? 0 : 1);
    }
    close(p[1]);
    pid_t seen[2];
    cf_read_all(p[0], seen, sizeof seen, "the child's view of its parent");
    cf_check(seen[0] == pid, "the child's getppid(): expected %d, got %d", (int)pid, (int)seen[0]);
    cf_check(seen[1] == pgrp, "the child's getpgrp(): expected %d, got %d", (int)pgrp, (int)seen[1]);
    int status;
    pid_t w = waitpid(child, &status, 0);
    cf_check(w == child && WIFEXITED(status) && WEXITSTATUS(status) == 0,
             "waitpid(%d): got %d (%s), status 0x%x", (int)child, (int)w, strerror(errno), status);
    cf_pass();
}
