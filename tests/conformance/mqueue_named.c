/* A POSIX message queue whose name still exists, open write-only: it is the same
 * queue, found by its name, with what it holds. */
#include "conf.h"
#include <mqueue.h>

int main(void)
{
    char name[64];
    snprintf(name, sizeof name, "/slurm-cr-named-%d", (int)getpid());
    struct mq_attr at = { .mq_maxmsg = 4, .mq_msgsize = 16 };
    mqd_t q = mq_open(name, O_WRONLY | O_CREAT | O_EXCL, 0600, &at);
    cf_check(q != (mqd_t)-1, "mq_open: %s", strerror(errno));
    cf_check(mq_send(q, "kept", 4, 2) == 0, "mq_send: %s", strerror(errno));
    cf_ready();
    cf_wait();
    cf_check((fcntl(q, F_GETFL) & O_ACCMODE) == O_WRONLY, "access mode: expected O_WRONLY, got 0%o",
             fcntl(q, F_GETFL) & O_ACCMODE);
    cf_check(mq_send(q, "more", 4, 1) == 0, "mq_send after: %s", strerror(errno));
    mqd_t r = mq_open(name, O_RDONLY | O_NONBLOCK);
    cf_check(r != (mqd_t)-1, "mq_open %s by name: %s", name, strerror(errno));
    mq_unlink(name);
    char buf[16] = "";
    unsigned p = 0;
    ssize_t n = mq_receive(r, buf, sizeof buf, &p);
    cf_check(n == 4 && !memcmp(buf, "kept", 4) && p == 2, "first message: expected 'kept' (2), got %zd '%.*s' (%u)", n,
             n > 0 ? (int)n : 0, buf, p);
    n = mq_receive(r, buf, sizeof buf, &p);
    cf_check(n == 4 && !memcmp(buf, "more", 4), "second message: expected 'more' (what the fd sent after), got %zd", n);
    cf_pass();
}
