/* The sigevent of each notification the program registers on a POSIX message queue
 * (mq_notify): the kernel shows a registration's kind, signal and owner when the queue
 * is read, never its value, which only a notification would tell.  Kept per queue (its
 * inode) for the checkpoint (resources/mqueue_notify.c), which keeps a registration
 * only when the kernel still has one of the same kind and signal by this process. */
#define _GNU_SOURCE
#include "dump.h"
#include "held_reads.h"
#include "mq_notify_track.h"
#include "runtime.h"

#include <dlfcn.h>
#include <mqueue.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#define API __attribute__((visibility("default")))
#define MAX_NOTES 64

static struct note {
    int used;
    uint64_t dev, ino;
    struct ctx_mq_notify note;
} notes[MAX_NOTES];

static int (*libc_mq_notify)(mqd_t, const struct sigevent *);

CR_LOOKUP_CONSTRUCTOR static void find_libc_mq_notify(void)
{
    libc_mq_notify = (int (*)(mqd_t, const struct sigevent *))dlsym(RTLD_NEXT, "mq_notify");
}

API int mq_notify(mqd_t q, const struct sigevent *ev)
{
    if (!libc_mq_notify)
        find_libc_mq_notify();
    int r = libc_mq_notify(q, ev);
    struct stat st;
    if (r != 0 || fstat(q, &st) < 0)
        return r;
    sigset_t old;
    cr_held_lock(&old);
    struct note *n = NULL, *free_one = NULL;
    for (int i = 0; i < MAX_NOTES && !n; i++)
        if (notes[i].used && notes[i].dev == st.st_dev && notes[i].ino == st.st_ino)
            n = &notes[i];
        else if (!notes[i].used && !free_one)
            free_one = &notes[i];
    if (!n)
        n = free_one; /* (none free: the checkpoint refuses what it does not know) */
    if (n && ev) {
        n->used = 1;
        n->dev = st.st_dev;
        n->ino = st.st_ino;
        n->note.notify = ev->sigev_notify;
        n->note.signo = ev->sigev_notify == SIGEV_SIGNAL ? ev->sigev_signo : 0;
        n->note.value = 0;
        if (ev->sigev_notify == SIGEV_SIGNAL)
            memcpy(&n->note.value, &ev->sigev_value, sizeof ev->sigev_value);
    } else if (n)
        n->used = 0;
    cr_held_unlock(&old);
    return r;
}

int cr_mq_notify_of(uint64_t dev, uint64_t ino, struct ctx_mq_notify *note)
{
    for (int i = 0; i < MAX_NOTES; i++)
        if (notes[i].used && notes[i].dev == dev && notes[i].ino == ino) {
            *note = notes[i].note;
            return 0;
        }
    return -1;
}
