/* Pipe ends and a socket in flight (SCM_RIGHTS) over a unix pair, their senders keeping
 * their own fds of them: after the restart they arrive, each the same open file as
 * the sender's (bytes written to the pipe are read through the received end, a line
 * sent on the socket's peer through the received socket). */
#include "conf.h"
#include <sys/socket.h>

int main(void)
{
    int sv[2], p[2], q[2];
    cf_sys(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    cf_sys(pipe(p));
    cf_sys(socketpair(AF_UNIX, SOCK_STREAM, 0, q));
    int pass[2] = { p[0], q[0] };
    union { struct cmsghdr h; char space[CMSG_SPACE(sizeof pass)]; } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct iovec iov = { "f", 1 };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl, .msg_controllen = sizeof ctl };
    struct cmsghdr *h = CMSG_FIRSTHDR(&mh);
    h->cmsg_level = SOL_SOCKET;
    h->cmsg_type = SCM_RIGHTS;
    h->cmsg_len = CMSG_LEN(sizeof pass);
    memcpy(CMSG_DATA(h), pass, sizeof pass);
    cf_check(sendmsg(sv[0], &mh, 0) == 1, "sendmsg: %s", strerror(errno));
    cf_ready();
    cf_wait();
    char b;
    memset(&ctl, 0, sizeof ctl);
    iov.iov_base = &b;
    mh.msg_controllen = sizeof ctl;
    cf_check(recvmsg(sv[1], &mh, MSG_DONTWAIT) == 1 && b == 'f', "the message with the fds is gone");
    h = CMSG_FIRSTHDR(&mh);
    cf_check(h && h->cmsg_type == SCM_RIGHTS && h->cmsg_len == CMSG_LEN(sizeof pass), "the fds in flight were lost");
    int got[2];
    memcpy(got, CMSG_DATA(h), sizeof got);
    cf_write_all(p[1], "pipe", 4);
    char buf[8];
    cf_check(cf_readable(got[0], 5) && read(got[0], buf, 4) == 4 && !memcmp(buf, "pipe", 4),
             "the received pipe end does not read the pipe");
    cf_write_all(q[1], "sock", 4);
    cf_check(cf_readable(got[1], 5) && read(got[1], buf, 4) == 4 && !memcmp(buf, "sock", 4),
             "the received socket is not the sender's");
    cf_check(!cf_readable(p[0], 0.05), "the sender's pipe end is not the received one (it still has bytes)");
    cf_pass();
}
