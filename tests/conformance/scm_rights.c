/* A file descriptor in flight: sent with SCM_RIGHTS over a unix stream pair and
 * closed by the sender, not received yet.  It arrives, open on the same file at
 * the same offset. */
#include "conf.h"
#include <sys/stat.h>

int main(void)
{
    int sv[2];
    cf_sys(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    int f = open("passed", O_RDWR | O_CREAT | O_TRUNC, 0600);
    cf_sys(f);
    cf_write_all(f, "hello rights", 12);
    cf_sys(lseek(f, 6, SEEK_SET));
    struct stat st;
    cf_sys(fstat(f, &st));
    char cbuf[CMSG_SPACE(sizeof(int))];
    memset(cbuf, 0, sizeof cbuf);
    struct iovec iov = { "R", 1 };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &f, sizeof f);
    cf_check(sendmsg(sv[0], &mh, 0) == 1, "sendmsg: %s", strerror(errno));
    close(f);
    cf_ready();
    cf_wait();
    char data = 0;
    char rbuf[CMSG_SPACE(sizeof(int) * 4)];
    struct iovec riov = { &data, 1 };
    struct msghdr rh = { .msg_iov = &riov, .msg_iovlen = 1, .msg_control = rbuf, .msg_controllen = sizeof rbuf };
    ssize_t n = recvmsg(sv[1], &rh, MSG_DONTWAIT);
    cf_check(n == 1 && data == 'R', "the message: expected 1 byte 'R', got %zd (%s)", n, n < 0 ? strerror(errno) : "");
    struct cmsghdr *r = CMSG_FIRSTHDR(&rh);
    cf_check(r && r->cmsg_level == SOL_SOCKET && r->cmsg_type == SCM_RIGHTS && r->cmsg_len == CMSG_LEN(sizeof(int)),
             "expected one SCM_RIGHTS fd with the message, got %s (flags 0x%x)", r ? "another control message" : "none",
             rh.msg_flags);
    int g;
    memcpy(&g, CMSG_DATA(r), sizeof g);
    struct stat gs;
    cf_sys(fstat(g, &gs));
    cf_check(gs.st_ino == st.st_ino && gs.st_dev == st.st_dev, "the fd received is another file (inode %lu, expected %lu)",
             (unsigned long)gs.st_ino, (unsigned long)st.st_ino);
    off_t pos = lseek(g, 0, SEEK_CUR);
    cf_check(pos == 6, "its offset: expected 6, got %lld", (long long)pos);
    char buf[16] = "";
    cf_check(read(g, buf, sizeof buf) == 6 && memcmp(buf, "rights", 6) == 0, "reading it: expected 'rights', got '%.6s'", buf);
    cf_pass();
}
