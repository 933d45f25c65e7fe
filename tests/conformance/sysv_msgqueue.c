/* A private System V message queue with three messages of two types queued: after
 * the restart the same queue id reads them by type in order, and its mode and size
 * limit are as set. */
#include "conf.h"
#include <sys/ipc.h>
#include <sys/msg.h>

struct m { long type; char text[16]; };

int main(void)
{
    int q = msgget(IPC_PRIVATE, IPC_CREAT | 0640);
    cf_sys(q);
    struct msqid_ds ds;
    cf_sys(msgctl(q, IPC_STAT, &ds));
    ds.msg_qbytes = 4000;
    cf_sys(msgctl(q, IPC_SET, &ds));
    struct m a = { 1, "first" }, b = { 2, "second" }, c = { 1, "third" };
    cf_sys(msgsnd(q, &a, 6, 0));
    cf_sys(msgsnd(q, &b, 7, 0));
    cf_sys(msgsnd(q, &c, 6, 0));
    cf_ready();
    cf_wait();
    struct m r;
    ssize_t n = msgrcv(q, &r, sizeof r.text, 2, IPC_NOWAIT);
    cf_check(n == 7 && !strcmp(r.text, "second"), "type 2: expected 'second', got %zd bytes (%s)", n,
             n < 0 ? strerror(errno) : r.text);
    n = msgrcv(q, &r, sizeof r.text, 0, IPC_NOWAIT);
    cf_check(n == 6 && !strcmp(r.text, "first") && r.type == 1, "first of the queue: expected 'first'");
    n = msgrcv(q, &r, sizeof r.text, 0, IPC_NOWAIT);
    cf_check(n == 6 && !strcmp(r.text, "third"), "last of the queue: expected 'third'");
    cf_check(msgrcv(q, &r, sizeof r.text, 0, IPC_NOWAIT) < 0 && errno == ENOMSG, "more messages than were sent");
    cf_sys(msgctl(q, IPC_STAT, &ds));
    cf_check((ds.msg_perm.mode & 0777) == 0640 && ds.msg_qbytes == 4000, "mode %o, qbytes %lu: expected 640, 4000",
             ds.msg_perm.mode & 0777, (unsigned long)ds.msg_qbytes);
    msgctl(q, IPC_RMID, NULL);
    cf_pass();
}
