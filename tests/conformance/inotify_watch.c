/* An inotify watch on a directory (IN_CREATE): a file created there afterwards is
 * reported. */
#include "conf.h"
#include <sys/inotify.h>
#include <sys/stat.h>

int main(void)
{
    cf_sys(mkdir("watched", 0755));
    int in = inotify_init1(IN_NONBLOCK);
    cf_sys(in);
    int wd = inotify_add_watch(in, "watched", IN_CREATE);
    cf_sys(wd);
    cf_ready();
    cf_wait();
    int fd = open("watched/new", O_CREAT | O_WRONLY, 0600);
    cf_sys(fd);
    cf_check(cf_readable(in, 5), "no inotify event for a file created in the watched directory");
    char buf[4096] __attribute__((aligned(8)));
    ssize_t n = read(in, buf, sizeof buf);
    cf_check(n >= (ssize_t)sizeof(struct inotify_event), "reading the event: %s", n < 0 ? strerror(errno) : "short");
    struct inotify_event *e = (void *)buf;
    cf_check(e->wd == wd && (e->mask & IN_CREATE) && e->len && strcmp(e->name, "new") == 0,
             "event: expected IN_CREATE 'new' on watch %d, got mask 0x%x '%s' on watch %d", wd, e->mask, e->len ? e->name : "", e->wd);
    cf_pass();
}
