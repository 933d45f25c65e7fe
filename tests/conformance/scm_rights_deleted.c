/* A deleted file in flight: an unnamed temporary file (tmpfile(), O_TMPFILE) and a file
 * removed after it was sent, both sent with SCM_RIGHTS over a unix stream pair and
 * closed by the sender, so that the files live only in the message.  They arrive with
 * their contents, offsets, access modes and permissions, still deleted. */
#include "conf.h"
#include <sys/stat.h>

static void send_fd(int sock, const char *byte, int fd)
{
    union { struct cmsghdr h; char space[CMSG_SPACE(sizeof(int))]; } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct iovec iov = { (void *)byte, 1 };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl, .msg_controllen = sizeof ctl };
    struct cmsghdr *h = CMSG_FIRSTHDR(&mh);
    h->cmsg_level = SOL_SOCKET;
    h->cmsg_type = SCM_RIGHTS;
    h->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(h), &fd, sizeof fd);
    cf_check(sendmsg(sock, &mh, 0) == 1, "sendmsg: %s", strerror(errno));
}

static int recv_fd(int sock, char want)
{
    union { struct cmsghdr h; char space[CMSG_SPACE(sizeof(int))]; } ctl;
    memset(&ctl, 0, sizeof ctl);
    char b = 0;
    struct iovec iov = { &b, 1 };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl, .msg_controllen = sizeof ctl };
    cf_check(cf_readable(sock, 5) && recvmsg(sock, &mh, 0) == 1 && b == want, "the byte '%c' did not come", want);
    struct cmsghdr *h = CMSG_FIRSTHDR(&mh);
    cf_check(h && h->cmsg_type == SCM_RIGHTS, "the file sent with '%c' was lost", want);
    int fd;
    memcpy(&fd, CMSG_DATA(h), sizeof fd);
    return fd;
}

int main(void)
{
    int sv[2];
    cf_sys(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    FILE *tf = tmpfile();
    cf_check(tf != NULL, "tmpfile: %s", strerror(errno));
    int t = fileno(tf);
    cf_write_all(t, "unnamed contents", 16);
    cf_sys((int)lseek(t, 8, SEEK_SET));
    cf_sys(fchmod(t, 0640));
    send_fd(sv[0], "t", t);
    fclose(tf);
    int w = open("gone.txt", O_WRONLY | O_CREAT | O_TRUNC, 0604);
    cf_sys(w);
    cf_write_all(w, "written then removed", 20);
    cf_sys(unlink("gone.txt"));
    send_fd(sv[0], "w", w);
    close(w);
    cf_ready();
    cf_wait();
    int g = recv_fd(sv[1], 't');
    char buf[32] = "";
    struct stat st;
    cf_sys(fstat(g, &st));
    cf_check(st.st_nlink == 0 && (st.st_mode & 07777) == 0640 && st.st_size == 16,
             "the unnamed file: links %lu mode %o size %lld, expected 0, 640, 16", (unsigned long)st.st_nlink,
             st.st_mode & 07777, (long long)st.st_size);
    cf_check(lseek(g, 0, SEEK_CUR) == 8, "the unnamed file's offset: expected 8, got %ld", (long)lseek(g, 0, SEEK_CUR));
    cf_check(read(g, buf, 8) == 8 && !memcmp(buf, "contents", 8), "the unnamed file's contents are wrong");
    cf_check((fcntl(g, F_GETFL) & O_ACCMODE) == O_RDWR, "the unnamed file is no longer open read-write");
    int h = recv_fd(sv[1], 'w');
    cf_sys(fstat(h, &st));
    cf_check(st.st_nlink == 0 && (st.st_mode & 07777) == 0604 && st.st_size == 20,
             "the removed file: links %lu mode %o size %lld, expected 0, 604, 20", (unsigned long)st.st_nlink,
             st.st_mode & 07777, (long long)st.st_size);
    cf_check(lseek(h, 0, SEEK_CUR) == 20, "the removed file's offset: expected 20, got %ld", (long)lseek(h, 0, SEEK_CUR));
    cf_check((fcntl(h, F_GETFL) & O_ACCMODE) == O_WRONLY, "the removed file is no longer write-only");
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", h);
    int r = open(self, O_RDONLY);
    cf_sys(r);
    cf_check(pread(r, buf, 20, 0) == 20 && !memcmp(buf, "written then removed", 20), "the removed file's contents are wrong");
    cf_pass();
}
