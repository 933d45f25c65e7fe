/* inotify watches keep their numbers, with a gap where one was removed, and their
 * masks (IN_ONESHOT among them); a new watch gets the number after the last, as it
 * would have. */
#include "conf.h"
#include <sys/inotify.h>
#include <sys/stat.h>

static int event(int in, int wd, uint32_t mask, const char *name)
{
    /* room for one event with a short name: the next one stays queued */
    char buf[sizeof(struct inotify_event) + 16] __attribute__((aligned(8)));
    if (!cf_readable(in, 5))
        return 0;
    ssize_t n = read(in, buf, sizeof buf);
    const struct inotify_event *e = (const void *)buf;
    return n >= (ssize_t)sizeof *e && e->wd == wd && (e->mask & mask) && !strcmp(e->len ? e->name : "", name);
}

int main(void)
{
    cf_sys(mkdir("a", 0755));
    cf_sys(mkdir("b", 0755));
    cf_sys(mkdir("c", 0755));
    cf_sys(mkdir("d", 0755));
    int in = inotify_init1(IN_NONBLOCK);
    cf_sys(in);
    int wa = inotify_add_watch(in, "a", IN_CREATE), wb = inotify_add_watch(in, "b", IN_CREATE),
        wc = inotify_add_watch(in, "c", IN_CREATE | IN_ONESHOT);
    cf_check(wa == 1 && wb == 2 && wc == 3, "watch numbers: expected 1 2 3, got %d %d %d", wa, wb, wc);
    cf_sys(inotify_rm_watch(in, wb));
    cf_check(event(in, wb, IN_IGNORED, ""), "no IN_IGNORED for the removed watch");
    cf_ready();
    cf_wait();
    int f = open("c/new", O_CREAT | O_WRONLY, 0600);
    cf_sys(f);
    cf_check(event(in, wc, IN_CREATE, "new"), "no IN_CREATE 'new' on watch %d (c)", wc);
    cf_check(event(in, wc, IN_IGNORED, ""), "the IN_ONESHOT watch %d did not end after its event", wc);
    f = open("a/new", O_CREAT | O_WRONLY, 0600);
    cf_sys(f);
    cf_check(event(in, wa, IN_CREATE, "new"), "no IN_CREATE 'new' on watch %d (a)", wa);
    int wd = inotify_add_watch(in, "d", IN_CREATE);
    cf_check(wd == 4, "a new watch: expected number 4, got %d", wd);
    cf_check(inotify_add_watch(in, "b", IN_CREATE) == 5, "b watched again: expected number 5");
    cf_pass();
}
