/* Two files in flight with one message of a unix seqpacket pair, between two plain
 * messages, their senders' fds closed: the messages keep their boundaries, and the
 * middle one brings both files, each at its own offset. */
#include "conf.h"
#include <sys/stat.h>

int main(void)
{
    int sv[2];
    cf_sys(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
    int f[2];
    const char *names[2] = { "first", "second" };
    for (int i = 0; i < 2; i++) {
        f[i] = open(names[i], O_RDWR | O_CREAT | O_TRUNC, 0600);
        cf_sys(f[i]);
        cf_write_all(f[i], i ? "0123456789" : "abcdefghij", 10);
        cf_sys(lseek(f[i], 3 + i, SEEK_SET));
    }
    cf_write_all(sv[0], "before", 6);
    char cbuf[CMSG_SPACE(sizeof f)];
    memset(cbuf, 0, sizeof cbuf);
    struct iovec iov = { "files", 5 };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof f);
    memcpy(CMSG_DATA(c), f, sizeof f);
    cf_check(sendmsg(sv[0], &mh, 0) == 5, "sendmsg: %s", strerror(errno));
    cf_write_all(sv[0], "after", 5);
    close(f[0]);
    close(f[1]);
    cf_ready();
    cf_wait();
    char buf[16] = "";
    cf_check(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT) == 6 && memcmp(buf, "before", 6) == 0, "first message: '%s'", buf);
    char rbuf[CMSG_SPACE(sizeof(int) * 4)];
    struct iovec riov = { buf, sizeof buf };
    struct msghdr rh = { .msg_iov = &riov, .msg_iovlen = 1, .msg_control = rbuf, .msg_controllen = sizeof rbuf };
    ssize_t n = recvmsg(sv[1], &rh, MSG_DONTWAIT);
    cf_check(n == 5 && memcmp(buf, "files", 5) == 0, "second message: expected 'files', got %zd bytes", n);
    struct cmsghdr *r = CMSG_FIRSTHDR(&rh);
    cf_check(r && r->cmsg_type == SCM_RIGHTS && r->cmsg_len == CMSG_LEN(sizeof f), "expected two fds with 'files'");
    int g[2];
    memcpy(g, CMSG_DATA(r), sizeof g);
    for (int i = 0; i < 2; i++) {
        char want[8], got[8] = "";
        memcpy(want, (i ? "0123456789" : "abcdefghij") + 3 + i, 3);
        cf_check(read(g[i], got, 3) == 3 && memcmp(got, want, 3) == 0, "file %s at offset %d: expected '%.3s', got '%.3s'",
                 names[i], 3 + i, want, got);
    }
    cf_check(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT) == 5 && memcmp(buf, "after", 5) == 0, "third message: '%s'", buf);
    cf_pass();
}
