/* scm_credentials in a process with a child (checkpointed as a tree, restarted with
 * its pids): the message it sent itself with its credentials comes with them. */
#include "conf.h"

int main(void)
{
    pid_t child = cf_fork_sleeper(); /* before the pair: it is the parent's alone */
    int sv[2];
    cf_sys(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    cf_setint(sv[1], SOL_SOCKET, SO_PASSCRED, 1);
    struct ucred cr = { getpid(), getuid(), getgid() };
    char cbuf[CMSG_SPACE(sizeof cr)];
    memset(cbuf, 0, sizeof cbuf);
    struct iovec iov = { "creds", 5 };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_CREDENTIALS;
    c->cmsg_len = CMSG_LEN(sizeof cr);
    memcpy(CMSG_DATA(c), &cr, sizeof cr);
    cf_check(sendmsg(sv[0], &mh, 0) == 5, "sendmsg: %s", strerror(errno));
    cf_ready();
    cf_wait();
    char data[16] = "";
    char rbuf[CMSG_SPACE(sizeof cr) + 64];
    struct iovec riov = { data, sizeof data };
    struct msghdr rh = { .msg_iov = &riov, .msg_iovlen = 1, .msg_control = rbuf, .msg_controllen = sizeof rbuf };
    ssize_t n = recvmsg(sv[1], &rh, MSG_DONTWAIT);
    cf_check(n == 5 && memcmp(data, "creds", 5) == 0, "the message: expected 'creds', got %zd bytes", n);
    struct cmsghdr *r = CMSG_FIRSTHDR(&rh);
    cf_check(r && r->cmsg_type == SCM_CREDENTIALS, "no SCM_CREDENTIALS with the message");
    struct ucred got;
    memcpy(&got, CMSG_DATA(r), sizeof got);
    cf_check(got.pid == cr.pid && got.uid == cr.uid && got.gid == cr.gid,
             "credentials: expected pid %d uid %d gid %d, got pid %d uid %d gid %d", (int)cr.pid, (int)cr.uid,
             (int)cr.gid, (int)got.pid, (int)got.uid, (int)got.gid);
    kill(child, SIGKILL);
    cf_pass();
}
