/* SO_PEERCRED of a unix socket pair the process made: its own pid, uid and gid after
 * the restart (the pid it has then). */
#include "conf.h"
#include <sys/socket.h>

int main(void)
{
    int sv[2];
    cf_sys(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    cf_ready();
    cf_wait();
    struct ucred c;
    socklen_t len = sizeof c;
    cf_sys(getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &c, &len));
    cf_check(c.pid == getpid() && c.uid == getuid() && c.gid == getgid(),
             "SO_PEERCRED: expected pid %d uid %d gid %d, got %d %d %d", (int)getpid(), (int)getuid(),
             (int)getgid(), (int)c.pid, (int)c.uid, (int)c.gid);
    cf_pass();
}
