/* Events queued on an inotify instance and not read at the checkpoint (a file made
 * in a watched directory, then written): after it they are read in order, with their
 * watch numbers, masks and names, and new events follow them. */
#include "conf.h"
#include <sys/inotify.h>
#include <sys/stat.h>

static int event(int in, int wd, uint32_t mask, const char *name)
{
    static char buf[4096] __attribute__((aligned(8)));
    static ssize_t len, off;
    if (off >= len) {
        if (!cf_readable(in, 10))
            return 0;
        len = read(in, buf, sizeof buf);
        off = 0;
        if (len <= 0)
            return 0;
    }
    struct inotify_event *e = (struct inotify_event *)(buf + off);
    off += (ssize_t)(sizeof *e + e->len);
    if (e->wd != wd || e->mask != mask || strcmp(e->len ? e->name : "", name))
        cf_fail("event: wd %d mask %x name '%s', expected wd %d mask %x '%s'", e->wd, e->mask,
                e->len ? e->name : "", wd, mask, name);
    return 1;
}

int main(void)
{
    cf_sys(mkdir("watched", 0700));
    int in = inotify_init1(IN_NONBLOCK);
    cf_sys(in);
    int wd = inotify_add_watch(in, "watched", IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE);
    cf_sys(wd);
    int f = open("watched/new", O_CREAT | O_WRONLY, 0600);
    cf_sys(f);
    cf_write_all(f, "x", 1);
    close(f);
    cf_ready();
    cf_wait();
    cf_check(event(in, wd, IN_CREATE, "new"), "no IN_CREATE 'new' queued before the checkpoint");
    cf_check(event(in, wd, IN_MODIFY, "new"), "no IN_MODIFY 'new' queued before the checkpoint");
    cf_check(event(in, wd, IN_CLOSE_WRITE, "new"), "no IN_CLOSE_WRITE 'new' queued before the checkpoint");
    f = open("watched/after", O_CREAT | O_WRONLY, 0600);
    cf_sys(f);
    cf_check(event(in, wd, IN_CREATE, "after"), "no IN_CREATE 'after' for a file made after");
    cf_pass();
}
