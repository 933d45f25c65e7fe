/* A process with a child (checkpointed as a tree), its sockets its own: datagrams
 * queued to a UDP socket from another of its sockets, a file in flight in a socket
 * pair, a client waiting in the backlog of its listening socket; all come back. */
#include "conf.h"

int main(void)
{
    pid_t child = cf_fork_sleeper(); /* before the sockets: they are the parent's alone */
    struct sockaddr_storage a;
    int s = socket(AF_INET, SOCK_DGRAM, 0), c = socket(AF_INET, SOCK_DGRAM, 0);
    cf_sys(s);
    cf_sys(c);
    socklen_t alen = cf_loopback(AF_INET, 0, &a);
    cf_sys(bind(s, (void *)&a, alen));
    alen = sizeof a;
    cf_sys(getsockname(s, (void *)&a, &alen));
    cf_check(sendto(c, "dgram", 5, 0, (void *)&a, alen) == 5, "sendto: %s", strerror(errno));
    cf_check(cf_readable(s, 5), "the datagram did not arrive");

    int sv[2];
    cf_sys(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    int f = open("flying", O_RDWR | O_CREAT | O_TRUNC, 0600);
    cf_sys(f);
    cf_write_all(f, "in flight", 9);
    char cbuf[CMSG_SPACE(sizeof(int))];
    memset(cbuf, 0, sizeof cbuf);
    struct iovec iov = { "F", 1 };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &f, sizeof f);
    cf_check(sendmsg(sv[0], &mh, 0) == 1, "sendmsg: %s", strerror(errno));
    close(f);

    struct sockaddr_storage l;
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    cf_sys(ls);
    socklen_t llen = cf_loopback(AF_INET, 0, &l);
    cf_sys(bind(ls, (void *)&l, llen));
    cf_sys(listen(ls, 4));
    llen = sizeof l;
    cf_sys(getsockname(ls, (void *)&l, &llen));
    int waiting = socket(AF_INET, SOCK_STREAM, 0);
    cf_sys(connect(waiting, (void *)&l, llen));
    cf_ready();
    cf_wait();

    char buf[16] = "";
    cf_check(recv(s, buf, sizeof buf, MSG_DONTWAIT) == 5 && memcmp(buf, "dgram", 5) == 0, "UDP: expected 'dgram', got '%s'", buf);
    char rbuf[CMSG_SPACE(sizeof(int))];
    struct iovec riov = { buf, 1 };
    struct msghdr rh = { .msg_iov = &riov, .msg_iovlen = 1, .msg_control = rbuf, .msg_controllen = sizeof rbuf };
    cf_check(recvmsg(sv[1], &rh, MSG_DONTWAIT) == 1 && buf[0] == 'F', "pair: expected 'F', got %s", strerror(errno));
    struct cmsghdr *r = CMSG_FIRSTHDR(&rh);
    cf_check(r && r->cmsg_type == SCM_RIGHTS, "pair: no file with the message");
    int g;
    memcpy(&g, CMSG_DATA(r), sizeof g);
    cf_check(pread(g, buf, 9, 0) == 9 && memcmp(buf, "in flight", 9) == 0, "the file in flight: got '%.9s'", buf);
    cf_check(cf_readable(ls, 5), "the client of the backlog is not there to accept");
    cf_check(accept(ls, NULL, NULL) >= 0, "accept: %s", strerror(errno));
    kill(child, SIGKILL);
    cf_pass();
}
