/* A file descriptor in flight with the first byte of a stream, its file still open in
 * the sender (one open file description): it comes with its byte, the bytes after it
 * come without, and what is received shares its offset with the sender's fd. */
#include "conf.h"
#include <sys/stat.h>

static ssize_t recv_with_fd(int s, char *data, size_t len, int *fd)
{
    char cbuf[CMSG_SPACE(sizeof(int) * 4)];
    struct iovec iov = { data, len };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
    ssize_t n = recvmsg(s, &mh, MSG_DONTWAIT);
    struct cmsghdr *c = n < 0 ? NULL : CMSG_FIRSTHDR(&mh);
    *fd = -1;
    if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
        memcpy(fd, CMSG_DATA(c), sizeof *fd);
    return n;
}

int main(void)
{
    int sv[2];
    cf_sys(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    int f = open("shared", O_RDWR | O_CREAT | O_TRUNC, 0600);
    cf_sys(f);
    cf_write_all(f, "0123456789", 10);
    cf_sys(lseek(f, 2, SEEK_SET));
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
    cf_write_all(sv[0], "xyz", 3);
    cf_ready();
    cf_wait();
    char buf[8] = "";
    int g, passed;
    ssize_t n = recv_with_fd(sv[1], buf, 1, &passed);
    cf_check(n == 1 && buf[0] == 'R' && passed >= 0, "first: expected 'R' with an fd, got %zd bytes '%c'%s", n, buf[0],
             passed >= 0 ? "" : " without an fd");
    n = recv_with_fd(sv[1], buf, 3, &g);
    cf_check(n == 3 && memcmp(buf, "xyz", 3) == 0 && g < 0, "last: expected 'xyz' without an fd, got %zd bytes", n);
    n = recv_with_fd(sv[1], buf, 1, &g);
    cf_check(n < 0 && errno == EAGAIN, "expected nothing more, got %zd", n);
    struct stat fs, ps;
    cf_sys(fstat(f, &fs));
    cf_sys(fstat(passed, &ps));
    cf_check(fs.st_ino == ps.st_ino && fs.st_dev == ps.st_dev, "the fd received is another file");
    cf_check(read(passed, buf, 3) == 3 && memcmp(buf, "234", 3) == 0, "reading the fd received at offset 2: got '%.3s'", buf);
    off_t pos = lseek(f, 0, SEEK_CUR);
    cf_check(pos == 5, "the sender's offset after the receiver read 3 bytes: expected 5 (one open file), got %lld",
             (long long)pos);
    cf_pass();
}
