/* A POSIX message queue on which the process had registered a notification
 * (mq_notify, SIGEV_SIGNAL or SIGEV_NONE): the queue as mqueue.c saves it, with the
 * notification's kind, signal and value.  The kernel shows a registration's kind,
 * signal and owner (reading the queue), never its value, which only a notification
 * would tell; the runtime saw the program's call (../mq_notify_track.c) and gives it.
 * At restart the notification is registered again by the restored process, once every
 * fd is placed (closing another fd of the queue, as the driver does with the ones it
 * made, would remove a registration made before). */
#define _GNU_SOURCE
#include "resources.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "context_reader.h"
#include "mqueue.h"

#define MAX_NOTES 64

static struct ctx_mq_notify note_of(const struct ctx_fd *f)
{
    struct ctx_mq_notify n;
    memcpy(&n, fd_rec_extra(f), sizeof n);
    return n;
}

/* the child's: what finish registers */
static struct { int fd; struct ctx_mq_notify note; } pending[MAX_NOTES];
static int npending;

static int make_noted(struct child *c, const struct ctx_fd *f, uint32_t rec)
{
    (void)rec;
    if (npending == MAX_NOTES)
        child_fail(c, E2BIG, "more than %d POSIX message queues with a notification", MAX_NOTES);
    pending[npending].fd = f->fd;
    pending[npending++].note = note_of(f);
    return mqueue_make(c, f, (const char *)fd_rec_extra(f) + sizeof(struct ctx_mq_notify),
                       f->extra_len - sizeof(struct ctx_mq_notify));
}

static void register_notes(struct child *c)
{
    for (int i = 0; i < npending; i++) {
        struct sigevent ev;
        memset(&ev, 0, sizeof ev);
        ev.sigev_notify = pending[i].note.notify;
        ev.sigev_signo = pending[i].note.signo;
        memcpy(&ev.sigev_value, &pending[i].note.value, sizeof ev.sigev_value);
        if (syscall(SYS_mq_notify, pending[i].fd, &ev) < 0)
            child_fail(c, errno, "cannot register the notification of the POSIX message queue of "
                       "fd %d again: %s%s", pending[i].fd, strerror(errno),
                       errno == EBUSY ? " (another process registered one on it meanwhile)" : "");
    }
    npending = 0;
}

static int valid_noted(const struct ctx_fd *f, const struct ctx_fd *const *earlier, uint32_t n)
{
    if (f->extra_len < sizeof(struct ctx_mq_notify))
        return 0;
    struct ctx_mq_notify note = note_of(f);
    if (!(note.notify == SIGEV_NONE && note.signo == 0 && note.value == 0) &&
        !(note.notify == SIGEV_SIGNAL && note.signo >= 1 && note.signo < 65 && note.signo != SIGKILL &&
          note.signo != SIGSTOP))
        return 0;
    return mqueue_valid(f, (const char *)fd_rec_extra(f) + sizeof note, f->extra_len - sizeof note,
                        earlier, n);
}

static void describe_noted(const struct ctx_fd *f, FILE *out, const char *acc)
{
    struct ctx_mq_notify note = note_of(f);
    mqueue_describe(f, (const char *)fd_rec_extra(f) + sizeof note, out, acc);
    if (note.notify == SIGEV_SIGNAL)
        fprintf(out, "           notification registered: signal %d, value %llu\n", note.signo,
                (unsigned long long)note.value);
    else
        fprintf(out, "           notification registered: none sent (SIGEV_NONE)\n");
}

const struct cr_fd_ops cr_fd_mqueue_notify = {
    .kind = CTX_FD_MQUEUE_NOTIFY, .name = "mqueue with a notification",
    .make = make_noted, .finish = register_notes, .pool = pool_deleted,
    .valid = valid_noted, .describe = describe_noted,
};
