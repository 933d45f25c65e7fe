/* SO_PASSCRED on a unix datagram socket pair's end, nothing queued: kept, so that a
 * datagram sent afterwards arrives with the sender's credentials. */
#include "conf.h"

int main(void)
{
    int sv[2];
    cf_sys(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    cf_setint(sv[1], SOL_SOCKET, SO_PASSCRED, 1);
    cf_ready();
    cf_wait();
    cf_check(cf_getint(sv[1], SOL_SOCKET, SO_PASSCRED) == 1, "SO_PASSCRED: expected 1, got 0");
    cf_check(cf_getint(sv[0], SOL_SOCKET, SO_PASSCRED) == 0, "SO_PASSCRED of the other end: expected 0, got 1");
    cf_check(send(sv[0], "hi", 2, 0) == 2, "send: %s", strerror(errno));
    char data[4], cbuf[CMSG_SPACE(sizeof(struct ucred))];
    struct iovec iov = { data, sizeof data };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
    cf_check(recvmsg(sv[1], &mh, MSG_DONTWAIT) == 2, "recvmsg: %s", strerror(errno));
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    cf_check(c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS, "no credentials with the datagram");
    struct ucred cr;
    memcpy(&cr, CMSG_DATA(c), sizeof cr);
    cf_check(cr.pid == getpid() && cr.uid == getuid() && cr.gid == getgid(),
             "credentials: expected pid %d uid %d gid %d, got pid %d uid %d gid %d", (int)getpid(), (int)getuid(),
             (int)getgid(), (int)cr.pid, (int)cr.uid, (int)cr.gid);
    cf_pass();
}
