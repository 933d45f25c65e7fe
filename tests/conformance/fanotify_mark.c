/* An fanotify group (unprivileged: FAN_REPORT_FID) marking a directory for changes:
 * after the restart a file changed there is reported.  (Refused: fanotify is not
 * saved; KNOWN.) */
#include "conf.h"
#include <sys/fanotify.h>

int main(void)
{
    int fa = fanotify_init(FAN_CLASS_NOTIF | FAN_REPORT_FID | FAN_NONBLOCK, O_RDONLY);
    if (fa < 0 && (errno == EPERM || errno == EINVAL)) { /* not for an unprivileged process here */
        cf_ready();
        cf_wait();
        cf_pass();
    }
    cf_sys(fa);
    cf_sys(mkdir("watched", 0700));
    cf_sys(fanotify_mark(fa, FAN_MARK_ADD, FAN_CLOSE_WRITE | FAN_EVENT_ON_CHILD, AT_FDCWD, "watched"));
    cf_ready();
    cf_wait();
    int f = open("watched/file", O_CREAT | O_WRONLY, 0600);
    cf_sys(f);
    close(f);
    char buf[4096];
    cf_check(cf_readable(fa, 5), "no fanotify event for a file written in the watched directory");
    ssize_t n = read(fa, buf, sizeof buf);
    cf_check(n >= (ssize_t)sizeof(struct fanotify_event_metadata) &&
             (((struct fanotify_event_metadata *)buf)->mask & FAN_CLOSE_WRITE),
             "the event is not FAN_CLOSE_WRITE (%zd bytes)", n);
    cf_pass();
}
