/* One checkpoint in the manager thread, from request to resume:
 *   wait until no thread is in a critical section (state PENDING, then ACTIVE),
 *   run the thread-context callbacks, whose last cr_checkpoint() leads to
 *   freeze the other threads (they run their signal-context callbacks and park),
 *   dump unless a callback cancelled, answer the requester, take its signal,
 *   let the threads go (or, in the restored copy, first redo the process's state).
 */
#define _GNU_SOURCE
#include "runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "callbacks.h"
#include "control.h"
#include "resources/resources.h"
#include "dirty_track.h"
#include "tcp_held.h"
#include "precopy.h"
#include "stop_times.h"
#include "parked_help.h"

/* How long a requester that is still there may take to say what comes next (its file
 * written, synced and renamed: under heavy I/O, minutes); one that goes away closes
 * the connection and the process resumes at once.  A bound any shorter would let the
 * process run on without the --kill or --stop it was frozen for, and redo at restart
 * what it did meanwhile. */
#define REQUESTER_WAIT_MS (24 * 3600 * 1000)

static char dest_path[CTX_PATH_MAX];

static void job_fail(struct cr_job *job, int err, const char *msg)
{
    if (job->err)
        return; /* the first failure is the one to report */
    job->err = err;
    snprintf(job->msg, sizeof job->msg, "%s", msg);
}

static void send_reply(struct cr_job *job, int phase)
{
    if (job->conn < 0)
        return;
    struct cr_ctl_reply rep;
    memset(&rep, 0, sizeof rep);
    rep.magic = CR_CTL_MAGIC;
    rep.phase = (uint16_t)phase;
    rep.flags = job->reply_flags;
    rep.err = job->err;
    rep.bytes = job->bytes;
    memcpy(rep.msg, job->msg, sizeof rep.msg);
    if (send(job->conn, &rep, sizeof rep, MSG_NOSIGNAL) != (ssize_t)sizeof rep && phase == CR_CTL_FROZEN)
        job_fail(job, ECONNRESET, "the requester went away");
    if (phase == CR_CTL_DONE)
        job->replied = 1;
}

/* The PREPARE of a tree checkpoint; commands land here too (they share its head). */
static struct cr_ctl_prepare tree_cmd;

static int in_tree(const struct cr_job *job)
{
    return job->conn >= 0 && (job->flags & CR_CTL_TREE);
}

/* Waits for the requester's next command, which must be `op`; 0 if it goes away,
 * sends anything else or takes a day (the process then resumes unharmed). */
static int wait_cmd(struct cr_job *job, uint32_t op)
{
    if (job->conn < 0)
        return 1;
    struct pollfd p = { job->conn, POLLIN, 0 };
    int r;
    while ((r = poll(&p, 1, REQUESTER_WAIT_MS)) < 0 && errno == EINTR)
        ;
    if (r != 1)
        return 0;
    ssize_t n = recv(job->conn, &tree_cmd, sizeof tree_cmd, 0);
    size_t want = op == CR_CMD_PREPARE ? sizeof tree_cmd : sizeof(struct cr_ctl_commit);
    if (n != (ssize_t)want || tree_cmd.magic != CR_CTL_MAGIC || tree_cmd.op != op)
        return 0;
    return op != CR_CMD_PREPARE || cr_ctl_prepare_check(&tree_cmd) == 0; /* counts within bounds */
}

/* Waits for the requester to say the file is in place: the signal to deliver. */
static int wait_commit(struct cr_job *job)
{
    if (job->conn < 0)
        return job->signal;
    if (!wait_cmd(job, CR_CMD_COMMIT))
        return 0;
    int sig = tree_cmd.signal;
    return sig > 0 && sig < 65 ? sig : 0;
}

/* A snapshot child writes the file and answers the requester itself: the process runs
 * on meanwhile and may end (exit right after a critical section, say) before its
 * manager could pass the answer on. */
static int snapshot_writer(struct cr_job *job, struct dump *d)
{
    int r = cr_dump_write(d, job->fd);
    if (r)
        job_fail(job, cr_dump_child_err(d), cr_dump_child_msg(d));
    else
        job->bytes = cr_dump_child_bytes(d);
    send_reply(job, CR_CTL_DONE);
    return r;
}

/* A tree's snapshot child first takes RELEASE (the process runs on), then its turn to
 * WRITE. */
static int tree_snapshot_writer(struct cr_job *job, struct dump *d)
{
    uint32_t *released = cr_dump_released(d);
    int ok = wait_cmd(job, CR_CMD_RELEASE);
    __atomic_store_n(released, ok ? 1 : 2, __ATOMIC_RELEASE);
    cr_futex_wake_shared(released);
    if (!ok || !wait_cmd(job, CR_CMD_WRITE))
        return 1;
    return snapshot_writer(job, d);
}

/* Writes the file from the frozen process itself (no snapshot child). */
static int dump_write(struct cr_job *job)
{
    struct dump *d = job->dump;
    int rc = 0;
    if (cr_dump_write(d, job->fd) != 0) {
        rc = -cr_dump_child_err(d);
        job_fail(job, -rc, cr_dump_child_msg(d));
    } else {
        job->bytes = cr_dump_child_bytes(d);
        cr_dump_image_id(d, &job->image_crc, &job->image_created_ns);
    }
    cr_dump_free(d);
    job->dump = NULL;
    return rc;
}

/* With every other thread parked: the manager's own state, then the dump.  Returns
 * 1 in the restored copy, which comes back here from its snapshot. */
static __attribute__((noinline)) int dump_frozen(struct cr_job *job)
{
    crt.nresumed = 0;
    crt.manager.tid = crt.manager_tid;
    cr_record_thread(&crt.manager, NULL);
    crt.manager.attrs.pdeathsig = 0; /* (a restart's stand-in for cr_restart, restart.c:
                                        never the program's) */
    if (cr_snapshot(&crt.manager.resume) != 0) {
        /* restored: before the callbacks see it, this thread and the process are ours */
        job->restored = 1;
        cr_thread_fixup(&crt.manager);
        crt.pid = getpid();
        crt.manager_tid = (pid_t)syscall(SYS_gettid);
        cri_rsinfo.requester = getppid();
        cri_rsinfo.src = crt.restart.src;
        return 1;
    }
    char msg[512] = "";
    struct dump *d;
    /* a tree of one process (cr_checkpoint --tree of one without children, asked as a
     * tree since it could have forked before it was frozen) is saved as a process alone */
    int rc = cr_dump_begin(&d, msg, sizeof msg, job->flags, job->timeout_ms,
                           in_tree(job) && !tree_cmd.alone ? &tree_cmd : NULL);
    job->dump = d;
    if (rc == 0) /* before a snapshot child: the pages written since the parent */
        cr_track_freeze(d);
    if (rc == 0 && job->precopy && in_tree(job) && !tree_cmd.alone) {
        /* its tree grew: the tree's file is written in turns, not pre-copied */
        cr_precopy_drop(job->fd, job->msg, sizeof job->msg, "its tree has other processes now");
    } else if (rc == 0 && job->precopy) {
        /* most of the memory is in the file: what changed since, and the rest */
        d->msg = cr_dump_child_msg(d);
        d->msglen = sizeof d->child_msg;
        int p = cr_precopy_write(d, job->fd, job->msg, sizeof job->msg);
        if (p == 0) {
            job->precopy_tail = 1;
            if (!in_tree(job))
                return 0;
            /* a tree of one: taken as a snapshot's (RELEASE, then WRITE, no commit) */
            job->reply_flags = CR_REPLY_SNAPSHOT;
            send_reply(job, CR_CTL_PREPARED);
            job->reply_flags = 0;
            if (wait_cmd(job, CR_CMD_RELEASE))
                return 0;
            job->precopy_tail = 0;
            job_fail(job, ECANCELED, "the requester gave up before the tree was released");
            cr_dump_free(d);
            job->dump = NULL;
            return -ECANCELED;
        }
        if (p < 0) {
            snprintf(msg, sizeof msg, "%s", cr_dump_child_msg(d));
            rc = p;
        }
        /* else today's way, the file emptied */
    }
    if (rc == 0 && job->cow && cr_dump_forkable(d)) {
        /* a snapshot child writes the memory as it is now; the process goes on */
        pid_t c = (pid_t)syscall(SYS_clone, 0 /* no SIGCHLD: the application never sees it */,
                                 NULL, NULL, NULL, NULL);
        if (c == 0) {
            prctl(PR_SET_NAME, CR_SNAPSHOT_COMM, 0, 0, 0); /* left out of tree checkpoints */
            syscall(SYS_exit_group, in_tree(job) ? tree_snapshot_writer(job, d)
                                                 : snapshot_writer(job, d));
        }
        if (c > 0) {
            cr_stop_mark(CR_STOP_FORK);
            job->child = c;
            if (in_tree(job)) {
                job->reply_flags = CR_REPLY_SNAPSHOT;
                send_reply(job, CR_CTL_PREPARED);
                job->reply_flags = 0;
            }
            return 0;
        }
    }
    if (rc < 0) {
        job_fail(job, -rc, msg);
        cr_dump_free(d);
        job->dump = NULL;
    }
    if (in_tree(job)) {
        send_reply(job, CR_CTL_PREPARED);
        if (rc < 0)
            return rc;
        if (!wait_cmd(job, CR_CMD_WRITE)) {
            job_fail(job, ECANCELED, "the requester gave up before this process's turn to write");
            cr_dump_free(job->dump);
            job->dump = NULL;
            return -ECANCELED;
        }
    }
    /* written from here: the manager resumes in this frame, which must still hold what
     * it held at cr_snapshot() when the stack is saved */
    return rc < 0 ? rc : dump_write(job);
}

/* The snapshot child is done: its result is the job's. */
static void reap_snapshot(struct cr_job *job)
{
    int status = 0;
    pid_t w;
    while ((w = waitpid(job->child, &status, __WCLONE)) < 0 && errno == EINTR)
        ;
    if (w > 0 && WIFEXITED(status) && job->conn >= 0)
        job->replied = 1; /* it answered the requester itself */
    if (w < 0)
        job_fail(job, EIO, "lost the snapshot writer (something else reaped it)");
    else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        job->bytes = cr_dump_child_bytes(job->dump);
        cr_dump_image_id(job->dump, &job->image_crc, &job->image_created_ns);
    }
    else if (WIFEXITED(status))
        job_fail(job, cr_dump_child_err(job->dump), cr_dump_child_msg(job->dump));
    else
        job_fail(job, EIO, "the snapshot writer died");
    cr_dump_free(job->dump);
    job->child = 0;
    job->dump = NULL;
}

static const char *failure_text(int kind)
{
    switch (kind) {
    case CR_CHECKPOINT_PERM_FAILURE:
        return "a callback cancelled the checkpoint and asked the process to end "
               "(CR_CHECKPOINT_PERM_FAILURE)";
    case CR_CHECKPOINT_TEMP_FAILURE:
        return "a callback cancelled the checkpoint (CR_CHECKPOINT_TEMP_FAILURE); the process "
               "keeps running";
    default:
        return "the process left itself out of the checkpoint (CR_CHECKPOINT_OMIT or "
               "libcr_omit); nothing was written";
    }
}

/* Every other thread is parked: the rest of the checkpoint, 1 in the restored copy. */
static int frozen(struct cr_job *job)
{
    int kind = __atomic_load_n(&cri_failure.kind, __ATOMIC_ACQUIRE);
    if (kind) {
        job_fail(job, kind == CR_CHECKPOINT_OMIT ? ESRCH : cri_failure.code, failure_text(kind));
        return -cri_failure.code;
    }
    send_reply(job, CR_CTL_FROZEN);
    if (job->err)
        return -job->err;
    if (in_tree(job) && !wait_cmd(job, CR_CMD_PREPARE)) {
        job_fail(job, ECANCELED, "the requester gave up before the whole tree was frozen");
        return -ECANCELED;
    }
    int rc = dump_frozen(job);
    if (rc == 1 || job->child || job->precopy_tail)
        return rc; /* the restored copy; or a snapshot child is writing, or the pre-copied
                      file is flushed: answered later */
    send_reply(job, CR_CTL_DONE);
    if (rc == 0) {
        int sig = wait_commit(job);
        if (sig == SIGKILL)
            tcp_abort_on_exit();
        if (sig == SIGSTOP) {
            /* sent to this thread, it takes it (a group stop) before tgkill returns: the
             * code after runs once the process is continued, before its threads go on */
            tcp_reset_while_stopped(1);
            tgkill(crt.pid, gettid(), SIGSTOP);
            tcp_reset_while_stopped(0);
        } else if (sig)
            kill(crt.pid, sig); /* pending before any thread runs application code again */
    }
    return rc;
}

/* The terminal step of the thread-context chain. */
static int freeze_and_dump(void *arg)
{
    struct cr_job *job = arg;
    char msg[512] = "";
    cr_stop_mark(CR_STOP_FREEZE);
    int rc = cr_freeze_threads(job->timeout_ms, msg, sizeof msg);
    cr_stop_mark(CR_STOP_FROZEN);
    if (rc < 0) {
        job_fail(job, -rc, msg);
        return rc;
    }
    cr_attrs_save_process(&crt.attrs);
    cr_stopped_children_save(); /* before a tree's requester continues them */
    /* from now on its /proc files are open to the dump and to a tree's requester (a
     * snapshot child keeps that: its memory is its own) */
    cr_attrs_dump_begin(&crt.attrs);
    rc = frozen(job);
    cr_stop_mark(CR_STOP_ENDED);
    if (rc != 1)
        cr_attrs_dump_end(&crt.attrs);
    return rc;
}

static void name_manager(pid_t requester);

/* The restored copy: every thread does its fix-ups, then the process's own state is
 * put right before anyone runs application code. */
static void resume_restored(void)
{
    /* the manager's name came back with the image: busy for the requester of the
     * checkpoint, who is gone; a new requester (the listener starts below) would take
     * the restart's last steps for that old checkpoint and give up at once (EBUSY)
     * instead of waiting for them */
    name_manager(0);
    uint32_t live = 0, v;
    for (uint32_t i = 0; i < crt.nslots; i++)
        if (crt.slots[i].tid > 0)
            live++;
    while ((v = __atomic_load_n(&crt.nresumed, __ATOMIC_ACQUIRE)) < live)
        cr_futex_wait(&crt.nresumed, v, 1000);
    if (crt.restart.hole_len)
        munmap((void *)(uintptr_t)crt.restart.hole_start, crt.restart.hole_len);
    cr_restore_posix_timers();
    cr_tcp_held_restored();
    if (cr_aio_restore() < 0) /* a program that would run on without its contexts: none */
        kill(crt.pid, SIGKILL);
    cr_attrs_restore_process(&crt.attrs);
    cr_track_restored();
    cr_precopy_restored();
    cr_help_restored();
    cr_dump_prepared_restored();
    crt.restart.hole_len = 0;
    /* the runtime's fds are never saved: the wake eventfd too is a new one (its old
     * number is closed, or another fd's, and the manager's poll would spin on POLLNVAL) */
    crt.wake_fd = cr_keep_high(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    cr_start_listener();
}

static void fill_info(struct cr_job *job)
{
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", job->fd);
    ssize_t n = readlink(link, dest_path, sizeof dest_path - 1);
    dest_path[n > 0 ? n : 0] = 0;
    cri_ckinfo.signal = job->signal;
    cri_ckinfo.dest = dest_path;
    cri_ckinfo.requester = job->requester;
    cri_ckinfo.target = crt.pid;
    cri_ckinfo.scope = CR_SCOPE_PROC;
}

static int cr_run_job_gated(struct cr_job *job);

/* Until no thread of the program is traced by the requester any more (it detaches
 * them once the process is frozen, and each stops again where it waits), within the
 * request's time: none may run the program before. */
static void wait_untraced(const struct cr_job *job)
{
    uint64_t until = cr_now_ms() + job->timeout_ms;
    for (uint32_t i = 0; i < crt.nslots; i++) {
        int tid = crt.slots[i].tid;
        char path[64], buf[2048];
        snprintf(path, sizeof path, "/proc/self/task/%d/status", tid);
        while (tid > 0 && tid != crt.manager_tid && cr_read_text(path, buf, sizeof buf) > 0) {
            const char *t = strstr(buf, "\nTracerPid:");
            if (!t || atoi(t + 11) == 0 || cr_now_ms() >= until)
                break;
            struct timespec ts = { 0, 2 * 1000 * 1000 };
            nanosleep(&ts, NULL);
        }
    }
}

/* Its parent is cr_restart, which stopped with it (CTX_REC_STOPPED): continued, this
 * process continues it, whoever sent the SIGCONT. */
static void continue_restarter(void)
{
    char path[64], buf[512];
    pid_t parent = getppid();
    snprintf(path, sizeof path, "/proc/%d/stat", (int)parent);
    const char *q = cr_read_text(path, buf, sizeof buf) > 0 ? strrchr(buf, ')') : NULL;
    if (q && q[1] == ' ' && q[2] == 'T' && parent == cri_rsinfo.requester)
        kill(parent, SIGCONT);
}

/* A process that was stopped when the checkpoint came (CR_CTL_STOPPED: its requester
 * continued it) stops again before any thread runs the program: going on, and in
 * the restored copy.  One its requester held through ptrace (CR_CTL_STOPPED_HELD) is
 * stopped again by the requester going on, and stops itself once restored. */
static void stop_again(const struct cr_job *job)
{
    if (job->flags & CR_CTL_STOPPED)
        kill(crt.pid, SIGSTOP);
    else if ((job->flags & CR_CTL_STOPPED_HELD) && job->restored) {
        kill(crt.pid, SIGSTOP); /* returns once continued */
        continue_restarter();
    } else if (job->flags & CR_CTL_STOPPED_HELD)
        wait_untraced(job);
}

/* --sockets=delay: no new socket until the checkpoint is over, and those that lead
 * outside closed first (within the timeout). */
static int wait_sockets_closed(struct cr_job *job)
{
    __atomic_store_n(&crt.socket_gate, 1, __ATOMIC_RELEASE);
    uint64_t until = cr_now_ms() + job->timeout_ms;
    char what[400] = "";
    while (cr_external_sockets(what, sizeof what)) {
        if (cr_now_ms() >= until) {
            char msg[512];
            snprintf(msg, sizeof msg, "%s, still open after %u ms (--sockets=delay waits for "
                     "connections to the outside to close); the process keeps running", what,
                     job->timeout_ms);
            job_fail(job, ETIMEDOUT, msg);
            return -ETIMEDOUT;
        }
        struct timespec ts = { 0, 20 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    return 0;
}

static void open_socket_gate(void)
{
    __atomic_store_n(&crt.socket_gate, 0, __ATOMIC_RELEASE);
    cr_futex_wake(&crt.socket_gate);
}

/* While a job runs, the manager thread is named after its requester: another
 * requester (crq_start) that gets no answer sees the process busy with someone else's
 * checkpoint and says EBUSY, as BLCR did, instead of waiting for its timeout. */
static void name_manager(pid_t requester)
{
    char name[32] = "cr-manager"; /* (the kernel keeps 15 characters: a pid has 7 at most) */
    if (requester > 0)
        snprintf(name, sizeof name, CR_BUSY_COMM "%d", (int)requester);
    prctl(PR_SET_NAME, name, 0, 0, 0);
}

int cr_run_job(struct cr_job *job)
{
    __atomic_store_n(&crt.busy, 1, __ATOMIC_RELEASE);
    name_manager(job->requester > 0 ? job->requester : crt.pid);
    int rc = cr_run_job_gated(job);
    name_manager(0); /* (the requester has its answer: what follows is our own tidying,
                        and a requester that comes meanwhile waits for it, not EBUSY) */
    if (rc != 1) { /* (the restored copy forgot them: nothing of them is there) */
        cr_precopy_end();
        cr_dump_prepared_end();
    }
    __atomic_store_n(&crt.busy, 0, __ATOMIC_RELEASE);
    open_socket_gate();
    return rc;
}

static int cr_run_job_gated(struct cr_job *job)
{
    cri_failure_reset();
    fill_info(job);
    if (cri_omit) {
        job_fail(job, ESRCH, failure_text(CR_CHECKPOINT_OMIT));
        send_reply(job, CR_CTL_DONE);
        stop_again(job);
        return 0;
    }
    if ((job->flags & CR_CTL_SOCKETS_DELAY) && wait_sockets_closed(job) < 0) {
        send_reply(job, CR_CTL_DONE);
        stop_again(job);
        return 0;
    }
    /* before the callbacks and critical sections: the program runs on meanwhile */
    job->precopy = cr_precopy_run(job);
    cri_set_state(CR_STATE_PENDING);
    if (cri_wait_cs_free(job->timeout_ms) < 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "a thread stayed in a critical section (cr_enter_cs) for more "
                 "than %u ms; the process keeps running", job->timeout_ms);
        job_fail(job, ETIMEDOUT, msg);
        send_reply(job, CR_CTL_DONE);
        cri_set_state(CR_STATE_IDLE);
        stop_again(job);
        return 0;
    }
    cri_set_state(CR_STATE_ACTIVE);

    cr_track_prepare(job);
    cr_pmix_locate(); /* (dlsym: not once the threads are frozen) */
    /* a snapshot child will write it: its VmFlags read now, out of the stop (not with
     * the incremental tracking, which registers regions until the freeze) */
    if (job->cow && !job->precopy && !(job->flags & CR_CTL_INCREMENTAL) && !cr_track_in_use())
        cr_dump_prepare();
    cri_lock_registry();
    /* the most recently registered first, as BLCR runs them */
    struct cri_chain chain = { crt.manager_cri, cri_tc, cri_ntc, 1, 0, freeze_and_dump, job };
    int has_tc = cri_ntc > 0;
    int result = cri_run_chain(&chain);
    cri_unlock_registry();

    if (job->restored) {
        resume_restored();
        /* its restored stopped children stopped again before it stops (continued
         * together, as a shell continues its job, they would not stop again) */
        cr_stopped_children_settle();
        stop_again(job);
        cr_release_threads(1);
        cr_stop_report(); /* (nothing: the marks are the checkpoint's, before its release) */
        cri_set_state(CR_STATE_IDLE);
        if (has_tc) /* (each thread ran its own hook: the manager's is the thread context's) */
            cri_run_hook(1, 1);
        return 1;
    }
    if (!job->replied && !job->child && !job->precopy_tail) {
        int kind = cri_failure.kind;
        if (kind) /* a thread-context callback cancelled before anything was stopped */
            job_fail(job, kind == CR_CHECKPOINT_OMIT ? ESRCH : cri_failure.code, failure_text(kind));
        else if (result < 0)
            job_fail(job, -result, "the checkpoint was cancelled");
        send_reply(job, CR_CTL_DONE);
    }
    if (cri_failure.kind == CR_CHECKPOINT_PERM_FAILURE)
        kill(crt.pid, SIGKILL); /* what the callback asked for */
    int tree_child = job->child && in_tree(job);
    if (tree_child) { /* the tree is released once every process has its snapshot */
        uint32_t *released = cr_dump_released(job->dump), v;
        while ((v = __atomic_load_n(released, __ATOMIC_ACQUIRE)) == 0)
            cr_futex_wait_shared(released, 0, 1000);
        if (v != 1)
            job_fail(job, ECANCELED, "the requester gave up before the tree was released");
    }
    stop_again(job);
    cr_stopped_children_settle();
    cr_stop_mark(CR_STOP_SETTLED);
    cr_release_threads(result > 0 ? 0 : result);
    cr_stop_mark(CR_STOP_RELEASE);
    cr_stop_report();
    cri_set_state(CR_STATE_IDLE);
    if (has_tc)
        cri_run_hook(0, 1);
    if (job->precopy_tail) { /* the process runs again while the file goes to disk */
        struct dump *d = job->dump;
        int e = cr_precopy_sync(d, job->fd);
        if (e < 0)
            job_fail(job, -e, cr_dump_child_msg(d));
        else {
            job->bytes = cr_dump_child_bytes(d);
            cr_dump_image_id(d, &job->image_crc, &job->image_created_ns);
        }
        cr_dump_free(d);
        job->dump = NULL;
        cr_precopy_end(); /* the protection off before the next job may come */
        if (in_tree(job)) { /* its turn to write, then done: a snapshot takes no commit */
            if (!wait_cmd(job, CR_CMD_WRITE))
                job_fail(job, ECANCELED, "the requester gave up before this process's turn to write");
            send_reply(job, CR_CTL_DONE);
        } else {
            send_reply(job, CR_CTL_DONE);
            int sig = job->err ? 0 : wait_commit(job);
            if (sig == SIGCONT)
                kill(crt.pid, sig);
        }
    }
    if (job->child) { /* the process runs again while its snapshot is written */
        reap_snapshot(job);
        if (tree_child) {
            cr_track_done(job);
            return 0; /* the child answered */
        }
        if (!job->replied) /* (it died before it could) */
            send_reply(job, CR_CTL_DONE);
        int sig = job->err ? 0 : wait_commit(job);
        if (sig == SIGCONT)
            kill(crt.pid, sig);
    }
    cr_track_done(job);
    return 0;
}
