/* A connection not accepted yet by a listening unix socket sent a line with a file
 * (SCM_RIGHTS): accepted afterwards, the line comes with the file, whose offset is
 * the one the sender left. */
#include "conf.h"

int main(void)
{
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    cf_sys(s);
    struct sockaddr_un a;
    socklen_t len = cf_unix_addr("rights.sock", &a);
    cf_sys(bind(s, (void *)&a, len));
    cf_sys(listen(s, 4));
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    cf_sys(connect(c, (void *)&a, len));
    FILE *tf = tmpfile();
    cf_check(tf != NULL, "tmpfile: %s", strerror(errno));
    int f = fileno(tf);
    cf_write_all(f, "0123456789", 10);
    cf_sys((int)lseek(f, 3, SEEK_SET));
    union { struct cmsghdr h; char space[CMSG_SPACE(sizeof(int))]; } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct iovec iov = { "line", 4 };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl, .msg_controllen = sizeof ctl };
    struct cmsghdr *h = CMSG_FIRSTHDR(&mh);
    h->cmsg_level = SOL_SOCKET;
    h->cmsg_type = SCM_RIGHTS;
    h->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(h), &f, sizeof f);
    cf_check(sendmsg(c, &mh, 0) == 4, "sendmsg: %s", strerror(errno));
    fclose(tf);
    cf_ready();
    cf_wait();
    cf_check(cf_readable(s, 5), "the connection of the backlog is not there to accept");
    int k = accept(s, NULL, NULL);
    cf_sys(k);
    char buf[8] = "";
    memset(&ctl, 0, sizeof ctl);
    iov.iov_base = buf;
    mh.msg_controllen = sizeof ctl;
    cf_check(cf_readable(k, 5) && recvmsg(k, &mh, 0) == 4 && !memcmp(buf, "line", 4),
             "accepted: expected 'line', got '%.4s'", buf);
    h = CMSG_FIRSTHDR(&mh);
    cf_check(h && h->cmsg_type == SCM_RIGHTS, "the file sent with the line was lost");
    int g;
    memcpy(&g, CMSG_DATA(h), sizeof g);
    cf_check(lseek(g, 0, SEEK_CUR) == 3, "the file's offset: expected 3, got %ld", (long)lseek(g, 0, SEEK_CUR));
    cf_check(read(g, buf, 2) == 2 && !memcmp(buf, "34", 2), "the file's content is wrong");
    cf_pass();
}
