/* Events queued on a blocking inotify instance watched by epoll, not read at the
 * checkpoint: after it epoll says readable, a buffer too small for the first event
 * gives EINVAL, events come one read each with a buffer of one event, none more than
 * were queued (epoll quiet once they are read), and a new event wakes epoll again. */
#include "conf.h"
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#define ONE (sizeof(struct inotify_event) + 16) /* an event with a short name */

static void expect(int in, uint32_t mask, const char *name)
{
    char buf[ONE] __attribute__((aligned(8)));
    ssize_t n = read(in, buf, sizeof buf);
    cf_check(n == (ssize_t)ONE, "read of one event: %zd (%s), expected %zu", n, n < 0 ? strerror(errno) : "",
             ONE);
    struct inotify_event *e = (struct inotify_event *)buf;
    cf_check(e->mask == mask && !strcmp(e->name, name), "event mask %x name '%s', expected %x '%s'",
             e->mask, e->len ? e->name : "", mask, name);
}

static int ready(int ep, int ms)
{
    struct epoll_event ev;
    for (;;) {
        int n = epoll_wait(ep, &ev, 1, ms);
        if (n >= 0 || errno != EINTR)
            return n;
    }
}

int main(void)
{
    cf_sys(mkdir("watched", 0700));
    int in = inotify_init1(0);
    cf_sys(in);
    int wd = inotify_add_watch(in, "watched", IN_CREATE);
    cf_sys(wd);
    int ep = epoll_create1(0);
    cf_sys(ep);
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = in };
    cf_sys(epoll_ctl(ep, EPOLL_CTL_ADD, in, &ev));
    const char *names[] = { "a", "b", "c" };
    for (int i = 0; i < 3; i++) {
        char path[32];
        snprintf(path, sizeof path, "watched/%s", names[i]);
        int f = open(path, O_CREAT | O_WRONLY, 0600);
        cf_sys(f);
        close(f);
    }
    cf_ready();
    cf_wait();
    cf_check(ready(ep, 10000) == 1, "epoll does not say the instance is readable");
    char small[8];
    cf_check(read(in, small, sizeof small) < 0 && errno == EINVAL,
             "a read too small for the first event did not fail with EINVAL");
    for (int i = 0; i < 3; i++)
        expect(in, IN_CREATE, names[i]);
    cf_check(ready(ep, 0) == 0, "epoll says readable after every queued event was read");
    int f = open("watched/d", O_CREAT | O_WRONLY, 0600);
    cf_sys(f);
    close(f);
    cf_check(ready(ep, 10000) == 1, "epoll does not wake for an event after the queued ones");
    expect(in, IN_CREATE, "d");
    cf_pass();
}
