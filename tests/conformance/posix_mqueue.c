/* A POSIX message queue open with two messages of different priorities queued. */
#include "conf.h"
#include <mqueue.h>

int main(void)
{
    char name[64];
    snprintf(name, sizeof name, "/slurm-cr-conf-%d", (int)getpid());
    struct mq_attr at = { .mq_maxmsg = 8, .mq_msgsize = 64 };
    mqd_t q = mq_open(name, O_RDWR | O_CREAT | O_NONBLOCK, 0600, &at);
    cf_check(q != (mqd_t)-1, "mq_open: %s", strerror(errno));
    mq_unlink(name);
    cf_check(mq_send(q, "low", 3, 1) == 0 && mq_send(q, "high", 4, 9) == 0, "mq_send: %s", strerror(errno));
    cf_ready();
    cf_wait();
    char buf[64] = "";
    unsigned prio = 0;
    ssize_t n = mq_receive(q, buf, sizeof buf, &prio);
    cf_check(n == 4 && prio == 9 && !memcmp(buf, "high", 4), "first message: expected 'high' (9), got %zd bytes (%u) %s", n, prio,
             n < 0 ? strerror(errno) : "");
    n = mq_receive(q, buf, sizeof buf, &prio);
    cf_check(n == 3 && prio == 1 && !memcmp(buf, "low", 3), "second message: expected 'low' (1), got %zd bytes (%u)", n, prio);
    cf_pass();
}
