/* A deleted file and a deleted POSIX message queue, each opened twice (two open files,
 * not dups): each is still one object, what one fd writes the other reads, and the
 * file's two offsets stay apart. */
#include "conf.h"
#include <mqueue.h>

int main(void)
{
    int a = open("twice", O_RDWR | O_CREAT | O_TRUNC, 0600), b = open("twice", O_RDONLY);
    cf_sys(a);
    cf_sys(b);
    cf_write_all(a, "0123456789", 10);
    cf_sys(lseek(b, 3, SEEK_SET));
    cf_sys(unlink("twice"));
    char name[64];
    snprintf(name, sizeof name, "/slurm-cr-twice-%d", (int)getpid());
    struct mq_attr at = { .mq_maxmsg = 4, .mq_msgsize = 16 };
    mqd_t w = mq_open(name, O_WRONLY | O_CREAT | O_EXCL, 0600, &at), r = mq_open(name, O_RDONLY | O_NONBLOCK);
    cf_check(w != (mqd_t)-1 && r != (mqd_t)-1, "mq_open: %s", strerror(errno));
    mq_unlink(name);
    cf_check(mq_send(w, "queued", 6, 1) == 0, "mq_send: %s", strerror(errno));
    cf_ready();
    cf_wait();
    cf_check(lseek(a, 0, SEEK_CUR) == 10 && lseek(b, 0, SEEK_CUR) == 3, "offsets: expected 10 and 3, got %lld and %lld",
             (long long)lseek(a, 0, SEEK_CUR), (long long)lseek(b, 0, SEEK_CUR));
    cf_write_all(a, "ABC", 3);
    char buf[16] = "";
    cf_check(pread(b, buf, sizeof buf, 0) == 13 && !memcmp(buf, "0123456789ABC", 13),
             "the second open does not see what the first wrote: '%s'", buf);
    unsigned p;
    ssize_t n = mq_receive(r, buf, sizeof buf, &p);
    cf_check(n == 6 && !memcmp(buf, "queued", 6), "the queue's message, received through the other open: got %zd (%s)", n,
             n < 0 ? strerror(errno) : "");
    cf_check(mq_send(w, "after", 5, 1) == 0 && mq_receive(r, buf, sizeof buf, &p) == 5,
             "a message sent through one open is not received through the other");
    cf_check(mq_receive(r, buf, sizeof buf, &p) < 0 && errno == EAGAIN, "the queue holds more than it should");
    cf_pass();
}
