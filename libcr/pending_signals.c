/* Pending signals, with their siginfo (code, sender, value), per thread and for the
 * whole process.
 *
 * The kernel shows which signals are pending but not their siginfo, short of taking
 * them: each stopped thread takes its own (in the quiesce handler, every signal
 * blocked), and the manager takes the process's once every thread is parked.  They
 * are kept in the runtime's memory, which the image carries, in the order they came
 * out (the kernel's order for each signal), and queued again by the thread they
 * belong to before it runs the program again (after a restore: in the restored
 * thread).  A thread may queue any siginfo to itself (rt_tgsigqueueinfo), and the
 * main thread any to its process (rt_sigqueueinfo with its own pid): the kernel lets
 * a caller forge a kernel code or kill()'s SI_USER only for itself, so the process's
 * queue is the main thread's to fill again, which the manager asks of it, parked,
 * before it lets any thread go.
 *
 * What differs: a signal of a POSIX timer (SI_TIMER) comes back as a queued copy of
 * its siginfo, no longer the timer's own; while it is pending, an expiry of the
 * re-armed timer queues another instead of counting an overrun. */
#define _GNU_SOURCE
#include "runtime.h"
#include "pid_map.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CR_MAX_PENDING_SIGNALS 4096
#define SHARED_QUEUE ((const struct cr_thread_slot *)-1)

static struct {
    const struct cr_thread_slot *owner; /* its thread, SHARED_QUEUE, or NULL: queued again or dropped */
    siginfo_t info;
} saved[CR_MAX_PENDING_SIGNALS];
static uint32_t nsaved;        /* slots handed out (may pass the end: see lost) */
static int lost;               /* a signal could not be taken or kept: the checkpoint fails */
static uint32_t shared_state;  /* futex: SHARED_* */
enum { SHARED_NONE, SHARED_TAKEN, SHARED_GO, SHARED_QUEUED };
#define GO_WAIT_MS 10000

void cr_pending_reset(void)
{
    nsaved = 0;
    lost = 0;
    __atomic_store_n(&shared_state, SHARED_NONE, __ATOMIC_RELEASE);
}

static uint64_t hex_field(const char *text, const char *key, int *found)
{
    const char *p = strstr(text, key);
    if (!p) {
        *found = 0;
        return 0;
    }
    uint64_t v = 0;
    for (p += strlen(key); *p == ' ' || *p == '\t'; p++)
        ;
    for (;; p++) {
        int d = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : -1;
        if (d < 0)
            break;
        v = v << 4 | (uint64_t)d;
    }
    return v;
}

/* The signals pending for the calling thread alone and for its process. */
static int read_pending(uint64_t *own, uint64_t *shared)
{
    char buf[2048]; /* on the stack of a stopped thread: SigPnd sits in the first 1 KiB */
    if (cr_read_text("/proc/thread-self/status", buf, sizeof buf) < 0)
        return -1;
    int found = 1;
    *own = hex_field(buf, "\nSigPnd:", &found);
    *shared = hex_field(buf, "\nShdPnd:", &found);
    return found ? 0 : -1;
}

/* Takes every signal pending for the calling thread (with_shared: then those of the
 * process) into `saved`, one at a time: the kernel hands a thread its own before the
 * process's, so a signal is its own while its bit is in SigPnd.  One of the
 * process's that the checkpoint itself caused (stopped_children.c) is dropped. */
static void take(const struct cr_thread_slot *self, int with_shared)
{
    uint64_t skip = 1ULL << (crt.signum - 1) | 1ULL << (SIGKILL - 1) | 1ULL << (SIGSTOP - 1);
    uint64_t any = 0; /* its own and the process's (every signal is blocked here) */
    if (syscall(SYS_rt_sigpending, &any, sizeof any) == 0 && !(any & ~skip))
        return;
    for (;;) {
        uint64_t own, shared;
        if (read_pending(&own, &shared) < 0) {
            lost = 1;
            return;
        }
        own &= ~skip;
        shared = with_shared ? shared & ~skip : 0;
        if (!own && !shared)
            return;
        int sig = __builtin_ctzll(own ? own : shared) + 1;
        uint32_t i = __atomic_fetch_add(&nsaved, 1, __ATOMIC_ACQ_REL);
        if (i >= CR_MAX_PENDING_SIGNALS) {
            lost = 1;
            return;
        }
        saved[i].owner = NULL;
        uint64_t set = 1ULL << (sig - 1);
        struct timespec now = { 0, 0 };
        if (syscall(SYS_rt_sigtimedwait, &set, &saved[i].info, &now, sizeof set) != sig) {
            skip |= set; /* gone meanwhile (taken, or a blocked SIGCONT's discard) */
            continue;
        }
        saved[i].owner = own ? self : cr_stopped_children_signal(&saved[i].info) ? NULL : SHARED_QUEUE;
        cr_pid_siginfo_known(&saved[i].info); /* (its sender, kept as the program knows it) */
    }
}

void cr_pending_save_thread(const struct cr_thread_slot *s)
{
    take(s, 0);
}

int cr_pending_save_process(char *msg, size_t msglen)
{
    take(&crt.manager, 1);
    __atomic_store_n(&shared_state, SHARED_TAKEN, __ATOMIC_RELEASE);
    if (lost) {
        snprintf(msg, msglen, "more than %d signals are pending (or /proc/thread-self/status is "
                 "unreadable); they stay pending and the process keeps running: let it take "
                 "them first", CR_MAX_PENDING_SIGNALS);
        return -E2BIG;
    }
    return 0;
}

static void queue_again(const struct cr_thread_slot *owner)
{
    pid_t pid = getpid(), tid = (pid_t)syscall(SYS_gettid);
    uint32_t n = __atomic_load_n(&nsaved, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < n && i < CR_MAX_PENDING_SIGNALS; i++) {
        if (saved[i].owner != owner)
            continue;
        /* as it was sent: the sender's pid is the one the program may have kept */
        siginfo_t si = saved[i].info;
        cr_pid_siginfo_real(&si); /* (a restart may have renumbered it: pid_map.c) */
        if (owner == SHARED_QUEUE)
            syscall(SYS_rt_sigqueueinfo, pid, si.si_signo, &si);
        else
            syscall(SYS_rt_tgsigqueueinfo, pid, tid, si.si_signo, &si);
        saved[i].owner = NULL;
    }
}

void cr_pending_restore_thread(const struct cr_thread_slot *s)
{
    queue_again(s);
}

void cr_pending_take_new(void)
{
    if (__atomic_load_n(&shared_state, __ATOMIC_ACQUIRE) == SHARED_TAKEN)
        take(&crt.manager, 1); /* after those taken before: the kernel's order */
}

void cr_pending_leader_task(void)
{
    if (__atomic_load_n(&shared_state, __ATOMIC_ACQUIRE) != SHARED_GO || syscall(SYS_gettid) != getpid())
        return;
    queue_again(SHARED_QUEUE);
    __atomic_store_n(&shared_state, SHARED_QUEUED, __ATOMIC_RELEASE);
    cr_futex_wake(&shared_state);
}

void cr_pending_release(void)
{
    if (__atomic_load_n(&shared_state, __ATOMIC_ACQUIRE) != SHARED_TAKEN)
        return;
    __atomic_store_n(&shared_state, SHARED_GO, __ATOMIC_RELEASE);
    uint64_t deadline = cr_now_ms() + GO_WAIT_MS;
    /* the main thread waits for the release generation to change: woken without a
     * change it looks for this task (again and again: it may just have looked) */
    while (__atomic_load_n(&shared_state, __ATOMIC_ACQUIRE) == SHARED_GO && cr_now_ms() < deadline) {
        cr_futex_wake(&crt.gen);
        cr_futex_wait(&shared_state, SHARED_GO, 20);
    }
}
