/* For the tests of a child whose kernel pid is one the program knows as another
 * process's (spawn_known_pid, vfork_known_pid): after a normal user's restart with new
 * pids the process's own old pid is such a pid (the table of libcr/pid_map.c names its
 * new one by it), free again once the checkpointed process is gone.  The kernel gives
 * pids in turn and wraps at pid_max: the test cycles through them with children that
 * exit at once until every pid between the last given and that one is taken, then
 * makes its child, which gets it unless another process of the system takes it first
 * (then it goes round again, within a bounded time). */
#ifndef KNOWN_PID_H
#define KNOWN_PID_H
#include "conf.h"
#include <sched.h>

/* A child that exits at once, made by the raw system call (nothing of libc or the
 * runtime sees it; SIGCHLD ignored: the kernel reaps it); its kernel pid. */
static pid_t kp_cycle_one(void)
{
    long r;
    __asm__ volatile("syscall\n\t"
                     "test %%rax, %%rax\n\t"
                     "jnz 1f\n\t"
                     "mov $60, %%eax\n\t" /* exit(0): the child touches no memory */
                     "xor %%edi, %%edi\n\t"
                     "syscall\n\t"
                     "1:"
                     : "=a"(r)
                     : "0"((long)SYS_clone), "D"((long)(CLONE_VM | CLONE_VFORK | SIGCHLD)), "S"(0L),
                       "d"(0L)
                     : "rcx", "r11", "r8", "r10", "memory");
    return (pid_t)r;
}

/* the process's pid as the kernel numbers it (syscall() is the runtime's, which
 * translates it too) */
static pid_t kp_kernel_pid(void)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "0"((long)SYS_getpid) : "rcx", "r11", "memory");
    return (pid_t)r;
}

/* whether the kernel has pid x in use (a process or a thread; asked through the system
 * call: the runtime's access() takes /proc/X for the process the program knows as X) */
static int kp_taken(pid_t x)
{
    char path[32];
    snprintf(path, sizeof path, "/proc/%d", (int)x);
    return syscall(SYS_faccessat, AT_FDCWD, path, F_OK, 0) == 0;
}

/* whether the calling thread has a child (/proc lists it) */
static int kp_children(void)
{
    char c = 0;
    int fd = open("/proc/thread-self/children", O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, &c, 1);
    if (fd >= 0)
        close(fd);
    if (n < 0)
        cf_fail("/proc/thread-self/children: %s", strerror(errno));
    return n == 1;
}

/* Cycles until the next pid the kernel gives should be `want`: 1, or 0 when `until`
 * (cf_now()) passed. */
static int kp_next_is(pid_t want, double until)
{
    struct sigaction ign = { .sa_handler = SIG_IGN }, old;
    sigaction(SIGCHLD, &ign, &old);
    int ready = 0;
    while (!ready && cf_now() < until) {
        pid_t p = kp_cycle_one();
        if (p < 0)
            cf_fail("clone: %s", strerror((int)-p));
        if (p >= want || want - p > 64)
            continue;
        ready = 1;
        for (pid_t x = p + 1; x < want && ready; x++)
            ready = kp_taken(x);
    }
    /* (a child lets its parent go on as it leaves its memory, before it has ended: the
     * kernel reaps it only if SIGCHLD is still ignored then) */
    for (double end = cf_now() + 10; kp_children() && cf_now() < end;)
        sched_yield();
    cf_check(!kp_children(), "the children that exit at once are still there after 10 s");
    sigaction(SIGCHLD, &old, NULL);
    return ready;
}

/* The kernel pid of the calling thread's one child (/proc lists it; opened through the
 * system call: the runtime reads what open() opens there as the program knows it). */
static pid_t kp_only_child(void)
{
    char buf[256] = "";
    int fd = (int)syscall(SYS_openat, AT_FDCWD, "/proc/thread-self/children", O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    if (fd >= 0)
        close(fd);
    if (n <= 0)
        cf_fail("no child in /proc/thread-self/children (%s)", n < 0 ? strerror(errno) : "empty");
    buf[n] = 0;
    int a = 0, b = 0;
    if (sscanf(buf, "%d %d", &a, &b) != 1)
        cf_fail("/proc/thread-self/children lists other children: '%s'", buf);
    return (pid_t)a;
}

/* The checks on a child that reads its stdin (the pipe's write end: wr), whose pid
 * the program was given as v, its kernel pid real: kill() and a wait reach it by v,
 * and the process is still itself (its own pid, `self`, names it).  `what` names the call. */
static void kp_check_child(const char *what, pid_t v, pid_t real, pid_t self, int wr)
{
    cf_check(kill(v, 0) == 0, "%s: kill(%d, 0), the child: %s", what, (int)v, strerror(errno));
    cf_check(kill(v, SIGTERM) == 0, "%s: kill(%d, SIGTERM): %s", what, (int)v, strerror(errno));
    int status = 0;
    pid_t w = waitpid(v, &status, 0);
    cf_check(w == v && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM,
             "%s: waitpid(%d) of the child (kernel pid %d): got %d (%s), status 0x%x", what, (int)v,
             (int)real, (int)w, w < 0 ? strerror(errno) : "", status);
    cf_check(getpid() == self && kill(self, 0) == 0, "%s: the process is no longer %d (getpid() %d)",
             what, (int)self, (int)getpid());
    close(wr);
}

/* The whole test: once told, make(&wr) a child (a cat on a pipe) after every pid up to
 * the process's own old one is taken, and check that `what` (posix_spawn, vfork) gave a
 * pid naming that child, not the process itself; without a table, the kernel's pid. */
static void __attribute__((noreturn)) kp_run(const char *what, pid_t (*make)(int *wr))
{
    cf_ready();
    cf_wait();
    pid_t self = getpid(), kernel_self = kp_kernel_pid();
    int wr;
    if (self == kernel_self) { /* (no table: the kernel's pids as they are) */
        pid_t v = make(&wr), real = kp_only_child();
        cf_check(v == real, "%s gave %d, the child's kernel pid is %d", what, (int)v, (int)real);
        kp_check_child(what, v, real, self, wr);
        cf_pass();
    }
    double until = cf_now() + 45;
    while (kp_next_is(self, until)) {
        pid_t v = make(&wr), real = kp_only_child();
        if (real != self) { /* another process took it first: once more */
            kp_check_child(what, v, real, self, wr);
            continue;
        }
        cf_check(v != self, "%s gave the child (kernel pid %d) the pid the process knows as "
                 "its own, %d", what, (int)real, (int)self);
        kp_check_child(what, v, real, self, wr);
        cf_pass();
    }
    cf_fail("no child got kernel pid %d (the process's old pid) within 45 s", (int)self);
}

#endif
