/* A deleted POSIX message queue, blocking, with messages of equal priority: they come
 * back in the order they were sent, after the one of higher priority, and the queue
 * keeps its attributes and mode. */
#include "conf.h"
#include <mqueue.h>
#include <sys/stat.h>

int main(void)
{
    char name[64];
    snprintf(name, sizeof name, "/slurm-cr-order-%d", (int)getpid());
    struct mq_attr at = { .mq_maxmsg = 5, .mq_msgsize = 32 };
    mqd_t q = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0640, &at);
    cf_check(q != (mqd_t)-1, "mq_open: %s", strerror(errno));
    mq_unlink(name);
    static const char *const sent[] = { "first", "second", "urgent", "third" };
    static const unsigned prio[] = { 5, 5, 7, 5 };
    for (int i = 0; i < 4; i++)
        cf_check(mq_send(q, sent[i], strlen(sent[i]), prio[i]) == 0, "mq_send: %s", strerror(errno));
    cf_ready();
    cf_wait();
    struct mq_attr now;
    cf_check(mq_getattr(q, &now) == 0, "mq_getattr: %s", strerror(errno));
    cf_check(now.mq_maxmsg == 5 && now.mq_msgsize == 32 && now.mq_curmsgs == 4 && !(now.mq_flags & O_NONBLOCK),
             "attributes: expected 5 of 32 bytes, 4 queued, blocking; got %ld of %ld, %ld queued, flags 0%lo",
             now.mq_maxmsg, now.mq_msgsize, now.mq_curmsgs, now.mq_flags);
    struct stat st;
    cf_check(fstat(q, &st) == 0 && (st.st_mode & 0777) == 0640, "mode: expected 0640, got %03o",
             (unsigned)(st.st_mode & 0777));
    static const char *const want[] = { "urgent", "first", "second", "third" };
    for (int i = 0; i < 4; i++) {
        char buf[32] = "";
        unsigned p = 0;
        ssize_t n = mq_receive(q, buf, sizeof buf, &p);
        cf_check(n == (ssize_t)strlen(want[i]) && !memcmp(buf, want[i], (size_t)n),
                 "message %d: expected '%s', got %zd bytes '%.*s' (%u)", i + 1, want[i], n, n > 0 ? (int)n : 0, buf, p);
    }
    cf_pass();
}
