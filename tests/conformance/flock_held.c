/* flock locks, one exclusive and one shared: still held (another open file cannot
 * take the exclusive one, can share the shared one but not take it exclusively). */
#include "conf.h"
#include <sys/file.h>

static void other(char *msg, size_t len, void *arg)
{
    (void)arg;
    int a = open("excl", O_RDONLY), b = open("shared", O_RDONLY);
    if (a < 0 || b < 0) {
        snprintf(msg, len, "open: %s", strerror(errno));
        return;
    }
    if (flock(a, LOCK_EX | LOCK_NB) == 0)
        snprintf(msg, len, "another open file took the exclusive flock of 'excl': it is no longer held");
    else if (flock(b, LOCK_EX | LOCK_NB) == 0)
        snprintf(msg, len, "another open file took 'shared' exclusively: its shared flock is no longer held");
    else if (flock(b, LOCK_SH | LOCK_NB) != 0)
        snprintf(msg, len, "another open file cannot share 'shared': %s (expected a shared lock, got an exclusive one?)",
                 strerror(errno));
}

int main(void)
{
    int a = open("excl", O_RDWR | O_CREAT, 0600), b = open("shared", O_RDWR | O_CREAT, 0600);
    cf_sys(a);
    cf_sys(b);
    cf_sys(flock(a, LOCK_EX));
    cf_sys(flock(b, LOCK_SH));
    cf_ready();
    cf_wait();
    cf_in_child(other, NULL, "flock");
    cf_pass();
}
