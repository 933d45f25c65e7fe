/* A connection not accepted yet by a listening unix socket of the process sent plain
 * bytes, then a piece with two files (SCM_RIGHTS: a pipe end the process keeps and a
 * file removed after it was sent), then more bytes: accepted afterwards, the files come
 * with the first byte of their own piece, not with the bytes before it, and each is
 * what it was. */
#include "conf.h"
#include <sys/stat.h>

int main(void)
{
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    cf_sys(s);
    struct sockaddr_un a;
    socklen_t len = cf_unix_addr("pieces.sock", &a);
    cf_sys(bind(s, (void *)&a, len));
    cf_sys(listen(s, 4));
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    cf_sys(connect(c, (void *)&a, len));
    int p[2];
    cf_sys(pipe(p));
    int f = open("removed.txt", O_RDWR | O_CREAT | O_TRUNC, 0600);
    cf_sys(f);
    cf_write_all(f, "kept contents", 13);
    cf_sys((int)lseek(f, 5, SEEK_SET));
    cf_sys(unlink("removed.txt"));
    cf_write_all(c, "plain", 5);
    int files[2] = { p[1], f };
    union { struct cmsghdr h; char space[CMSG_SPACE(sizeof files)]; } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct iovec iov = { "with", 4 };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl, .msg_controllen = sizeof ctl };
    struct cmsghdr *h = CMSG_FIRSTHDR(&mh);
    h->cmsg_level = SOL_SOCKET;
    h->cmsg_type = SCM_RIGHTS;
    h->cmsg_len = CMSG_LEN(sizeof files);
    memcpy(CMSG_DATA(h), files, sizeof files);
    cf_check(sendmsg(c, &mh, 0) == 4, "sendmsg: %s", strerror(errno));
    close(f);
    cf_write_all(c, "after", 5);
    cf_ready();
    cf_wait();
    cf_check(cf_readable(s, 5), "the connection of the backlog is not there to accept");
    int k = accept(s, NULL, NULL);
    cf_sys(k);
    char buf[16] = "";
    memset(&ctl, 0, sizeof ctl);
    iov.iov_base = buf;
    iov.iov_len = 5;
    mh.msg_controllen = sizeof ctl;
    cf_check(cf_readable(k, 5) && recvmsg(k, &mh, 0) == 5 && !memcmp(buf, "plain", 5),
             "accepted: expected 'plain' first, got '%.5s'", buf);
    cf_check(CMSG_FIRSTHDR(&mh) == NULL, "the files came with the bytes before their own");
    memset(&ctl, 0, sizeof ctl);
    iov.iov_len = 4;
    mh.msg_controllen = sizeof ctl;
    cf_check(recvmsg(k, &mh, 0) == 4 && !memcmp(buf, "with", 4), "expected 'with', got '%.4s'", buf);
    h = CMSG_FIRSTHDR(&mh);
    cf_check(h && h->cmsg_type == SCM_RIGHTS && h->cmsg_len == CMSG_LEN(sizeof files),
             "the two files did not come with their own bytes");
    int got[2];
    memcpy(got, CMSG_DATA(h), sizeof got);
    cf_write_all(got[0], "!", 1);
    cf_check(cf_readable(p[0], 5) && read(p[0], buf, 1) == 1 && buf[0] == '!', "the pipe end that came is not the pipe's");
    struct stat st;
    cf_sys(fstat(got[1], &st));
    cf_check(st.st_nlink == 0 && st.st_size == 13 && (st.st_mode & 0777) == 0600,
             "the removed file: links %lu size %lld mode %o", (unsigned long)st.st_nlink, (long long)st.st_size,
             st.st_mode & 0777);
    cf_check(lseek(got[1], 0, SEEK_CUR) == 5, "the removed file's offset: expected 5, got %ld",
             (long)lseek(got[1], 0, SEEK_CUR));
    cf_check(read(got[1], buf, 8) == 8 && !memcmp(buf, "contents", 8), "the removed file's contents are wrong");
    cf_check(read(k, buf, 5) == 5 && !memcmp(buf, "after", 5), "expected 'after' last");
    cf_pass();
}
