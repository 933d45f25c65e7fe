/* The pids a restored program knows by their first values.  A normal user cannot give
 * restored processes chosen pids, and the pid namespace that would give them needs a
 * user namespace, in which other users' files show as nobody's (a tar of system files
 * records other owners).  So such a tree (or a process alone) comes back with new pids
 * (restart_tree.c, restart.c), and each program goes on seeing the old ones: the calls
 * of libc that take or give a pid are translated here through the table cr_restart
 * wrote into the runtime's memory (its own pid, its parent's, its children's, its
 * groups' and session's; the calls made through syscall() that take a pid, through
 * aio.c's syscall(); SCM_CREDENTIALS, through held_reads.c's recvmsg; F_GETLK's holder,
 * F_GETOWN and F_SETOWN, through dnotify_track.c's fcntl; SO_PEERCRED, through
 * getsockopt; process_vm_readv and process_vm_writev (with the pids of the other
 * tasks of a Slurm step on the node, restart_step_pids.c); sigqueue, prlimit, the priority and scheduler calls, pidfd_open; the
 * sender of a signal sigwaitinfo and sigtimedwait give, and a handler's (pid_signals.c);
 * /proc's paths, the files there that print pids and a signalfd's senders
 * (proc_pids.c); the pid vfork, posix_spawn and clone() give a child whose kernel pid is
 * one the program knows as another process's: a number beyond the kernel's).  Not
 * translated: a netlink socket's port (its replies carry it), system calls made without
 * libc, and a program exec'd after the restart (it starts with the pids the kernel gives)
 * (cr_restart(1)).  The runtime's own calls go to the kernel as they are: it works
 * with the kernel's numbers. */
#define _GNU_SOURCE
#include "pid_map.h"
#include "runtime.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <spawn.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <ucontext.h>
#include <unistd.h>

#define API __attribute__((visibility("default")))
#define CR_STR_(x) #x
#define CR_STR(x) CR_STR_(x)

struct cr_pid_map cr_pid_map;
int cr_pid_map_usable;

/* the runtime's code: calls from it are not translated; libc's own calls, found once at
 * start-up (never while the process may be frozen) */
static uintptr_t own_start, own_end;
static pid_t (*libc_fork)(void);
static pid_t (*libc_wait4)(pid_t, int *, int, struct rusage *);
static int (*libc_waitid)(idtype_t, id_t, siginfo_t *, int);
static ssize_t (*libc_sendmsg)(int, const struct msghdr *, int);
static int (*libc_getsockopt)(int, int, int, void *, socklen_t *);
typedef int spawn_fn(pid_t *, const char *, const posix_spawn_file_actions_t *,
                     const posix_spawnattr_t *, char *const[], char *const[]);
static spawn_fn *libc_posix_spawn, *libc_posix_spawnp;
static int (*libc_sigtimedwait)(const sigset_t *, siginfo_t *, const struct timespec *);
static int (*libc_clone)(int (*)(void *), void *, int, void *, ...);

API pid_t getpid(void);
extern __typeof(getpid) own_getpid __attribute__((alias("getpid"), visibility("hidden"), copy(getpid)));

CR_LOOKUP_CONSTRUCTOR static void find_own_code(void)
{
    libc_fork = (pid_t (*)(void))dlsym(RTLD_NEXT, "fork");
    libc_wait4 = (pid_t (*)(pid_t, int *, int, struct rusage *))dlsym(RTLD_NEXT, "wait4");
    libc_waitid = (int (*)(idtype_t, id_t, siginfo_t *, int))dlsym(RTLD_NEXT, "waitid");
    libc_sendmsg = (ssize_t (*)(int, const struct msghdr *, int))dlsym(RTLD_NEXT, "sendmsg");
    libc_getsockopt = (int (*)(int, int, int, void *, socklen_t *))dlsym(RTLD_NEXT, "getsockopt");
    libc_posix_spawn = (spawn_fn *)dlsym(RTLD_NEXT, "posix_spawn");
    libc_posix_spawnp = (spawn_fn *)dlsym(RTLD_NEXT, "posix_spawnp");
    libc_sigtimedwait = (int (*)(const sigset_t *, siginfo_t *, const struct timespec *))
        dlsym(RTLD_NEXT, "sigtimedwait");
    libc_clone = (int (*)(int (*)(void *), void *, int, void *, ...))dlsym(RTLD_NEXT, "clone");
    /* the program's calls come here only when the runtime comes before libc (cr_run's
     * preload; not a program linked with -lcr run without cr_run, whose libcr.so would
     * hand the runtime's own calls back to these as the program's) */
    cr_pid_map_usable = dlsym(RTLD_DEFAULT, "getpid") == (void *)own_getpid;
    Dl_info info;
    if (!dladdr((void *)find_own_code, &info) || !info.dli_fbase)
        return;
    const ElfW(Ehdr) *eh = info.dli_fbase;
    const ElfW(Phdr) *ph = (const void *)((const char *)eh + eh->e_phoff);
    uintptr_t base = (uintptr_t)eh, lo = UINTPTR_MAX, hi = 0, first = UINTPTR_MAX;
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD && ph[i].p_vaddr < first)
            first = ph[i].p_vaddr; /* (the object is loaded at base - its first segment's address) */
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD && (ph[i].p_flags & PF_X)) {
            if (ph[i].p_vaddr < lo)
                lo = ph[i].p_vaddr;
            if (ph[i].p_vaddr + ph[i].p_memsz > hi)
                hi = ph[i].p_vaddr + ph[i].p_memsz;
        }
    if (hi > lo && first != UINTPTR_MAX) {
        own_start = base - (first & ~(uintptr_t)0xfff) + lo;
        own_end = base - (first & ~(uintptr_t)0xfff) + hi;
    }
}

/* Whether to translate a call that returns to `from`: a table, and not the runtime's */
static int translating(const void *from)
{
    return __atomic_load_n(&cr_pid_map.n, __ATOMIC_ACQUIRE) &&
           !((uintptr_t)from >= own_start && (uintptr_t)from < own_end);
}

/* One pair, read and written whole: the program's threads read the table while one
 * of them changes it (a child made, spawned; a pair forgotten is {0, 0}, which no pid
 * matches). */
static struct cr_pid_pair pair_at(uint32_t i)
{
    uint64_t v = __atomic_load_n((uint64_t *)&cr_pid_map.e[i], __ATOMIC_ACQUIRE);
    struct cr_pid_pair e;
    memcpy(&e, &v, sizeof e);
    return e;
}

static void pair_set(uint32_t i, struct cr_pid_pair e)
{
    uint64_t v;
    memcpy(&v, &e, sizeof v);
    __atomic_store_n((uint64_t *)&cr_pid_map.e[i], v, __ATOMIC_RELEASE);
}
_Static_assert(sizeof(struct cr_pid_pair) == 8 && offsetof(struct cr_pid_map, e) % 8 == 0,
               "a pair is read and written in one access");

static uint32_t pairs(void)
{
    uint32_t n = __atomic_load_n(&cr_pid_map.n, __ATOMIC_ACQUIRE);
    return n <= CR_PID_MAP_MAX ? n : CR_PID_MAP_MAX;
}

static pid_t to_real(pid_t known)
{
    for (uint32_t i = 0, n = pairs(); i < n; i++) {
        struct cr_pid_pair e = pair_at(i);
        if (e.known == known)
            return e.real;
    }
    return known;
}

static pid_t to_known(pid_t real)
{
    for (uint32_t i = 0, n = pairs(); i < n; i++) {
        struct cr_pid_pair e = pair_at(i);
        if (e.real == real)
            return e.known;
    }
    return real;
}

/* a pid argument: > 0 a process, < -1 a group (kill, waitpid), 0 and -1 as they are */
static pid_t arg_real(pid_t p)
{
    return p > 0 ? to_real(p) : p < -1 ? -to_real(-p) : p;
}

/* How many times this process was restarted (the restorer counts them). */
static uint64_t restarts_now(void)
{
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    uint64_t n = __atomic_load_n(&crt.restart.restarts, __ATOMIC_RELAXED);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    return n;
}

/* A new process whose kernel pid is one the program knows as another's. */
static int taken_as_known(pid_t real)
{
    for (uint32_t i = 0, n = pairs(); i < n; i++) {
        struct cr_pid_pair e = pair_at(i);
        if (e.known == real && e.real != real)
            return 1;
    }
    return 0;
}

/* The table changes in one thread at a time (its readers need no lock); the caller
 * blocks every signal it may (a handler of the program that made a child would wait
 * for itself). */
static int table_lock;

static void lock_table(void)
{
    while (__atomic_exchange_n(&table_lock, 1, __ATOMIC_ACQUIRE))
        syscall(SYS_sched_yield);
}

static void unlock_table(void)
{
    __atomic_store_n(&table_lock, 0, __ATOMIC_RELEASE);
}

/* A new process's kernel pid that the table gives a process that has ended since (its
 * pid was free to be given again): that pair is forgotten, else the new process would
 * be seen by the old one's number.  Under the lock. */
static void forget_ended(pid_t real)
{
    for (uint32_t i = 0, n = pairs(); i < n; i++) {
        struct cr_pid_pair e = pair_at(i);
        if (e.real == real && e.known != real)
            pair_set(i, (struct cr_pid_pair){ 0, 0 });
    }
}

/* A number for the program to know a new child by whose kernel pid it knows as
 * another process's (made by vfork or posix_spawn, which cannot be made again as fork's
 * child is: it may have run already): above any pid the kernel gives (PID_MAX_LIMIT,
 * 4194304 on 64-bit), so that it can name no other process.  Under the lock; the kernel
 * pid itself when the table is full. */
#define CR_PID_BEYOND_KERNEL 4194304
static pid_t known_beyond(pid_t real)
{
    pid_t v = CR_PID_BEYOND_KERNEL;
    uint32_t n = pairs(), free_slot = n;
    for (int fresh = 0; !fresh;) {
        v++;
        fresh = 1;
        for (uint32_t i = 0; i < n && fresh; i++)
            fresh = pair_at(i).known != v;
    }
    for (uint32_t i = 0; i < n && free_slot == n; i++)
        if (pair_at(i).known == 0 && pair_at(i).real == 0)
            free_slot = i;
    if (free_slot == CR_PID_MAP_MAX)
        return real;
    pair_set(free_slot, (struct cr_pid_pair){ v, real });
    if (free_slot == n)
        __atomic_store_n(&cr_pid_map.n, n + 1, __ATOMIC_RELEASE);
    return v;
}

/* The parent's side of a child made by vfork or posix_spawn (kernel pid real; before:
 * the restarts counted before it was made, from: the program's caller): the pid the
 * program knows it by. */
static pid_t spawned(pid_t real, const void *from, uint64_t before)
{
    if (real <= 0 || !translating(from))
        return real;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    pid_t known = real;
    lock_table();
    /* (a checkpoint and restart since it was made wrote a table in which its pid of
     * before names it already) */
    if (restarts_now() == before) {
        forget_ended(real);
        if (taken_as_known(real))
            known = known_beyond(real);
    }
    unlock_table();
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return known;
}

API pid_t getpid(void)
{
    pid_t r = (pid_t)syscall(SYS_getpid);
    return translating(__builtin_return_address(0)) ? to_known(r) : r;
}

API pid_t getppid(void)
{
    pid_t r = (pid_t)syscall(SYS_getppid);
    return translating(__builtin_return_address(0)) ? to_known(r) : r;
}

API pid_t getpgrp(void)
{
    pid_t r = (pid_t)syscall(SYS_getpgid, 0);
    return translating(__builtin_return_address(0)) ? to_known(r) : r;
}

API pid_t getpgid(pid_t pid)
{
    int t = translating(__builtin_return_address(0));
    pid_t r = (pid_t)syscall(SYS_getpgid, t ? arg_real(pid) : pid);
    return t && r > 0 ? to_known(r) : r;
}

API pid_t getsid(pid_t pid)
{
    int t = translating(__builtin_return_address(0));
    pid_t r = (pid_t)syscall(SYS_getsid, t ? arg_real(pid) : pid);
    return t && r > 0 ? to_known(r) : r;
}

API int setpgid(pid_t pid, pid_t pgid)
{
    int t = translating(__builtin_return_address(0));
    return (int)syscall(SYS_setpgid, t ? arg_real(pid) : pid, t ? arg_real(pgid) : pgid);
}

API int kill(pid_t pid, int sig)
{
    int t = translating(__builtin_return_address(0));
    return (int)syscall(SYS_kill, t ? arg_real(pid) : pid, sig);
}

/* (UCX's CMA transport reads and writes another rank's memory by the pid it said) */
API ssize_t process_vm_readv(pid_t pid, const struct iovec *local, unsigned long nlocal,
                             const struct iovec *remote, unsigned long nremote, unsigned long flags)
{
    int t = translating(__builtin_return_address(0));
    return syscall(SYS_process_vm_readv, t ? arg_real(pid) : pid, local, nlocal, remote, nremote, flags);
}

API ssize_t process_vm_writev(pid_t pid, const struct iovec *local, unsigned long nlocal,
                              const struct iovec *remote, unsigned long nremote, unsigned long flags)
{
    int t = translating(__builtin_return_address(0));
    return syscall(SYS_process_vm_writev, t ? arg_real(pid) : pid, local, nlocal, remote, nremote, flags);
}

API int killpg(pid_t pgrp, int sig)
{
    if (pgrp < 0) {
        errno = EINVAL;
        return -1;
    }
    int t = translating(__builtin_return_address(0));
    return (int)syscall(SYS_kill, -(t ? arg_real(pgrp) : pgrp), sig);
}

/* (a wait may span a checkpoint and a restart with new pids: its result is read with
 * the table as it is when it returns; its pid argument, in the registers of the
 * system call made again, is set by cr_pid_args_restore) */
static pid_t wait_any(pid_t pid, int *status, int options, struct rusage *ru, const void *from)
{
    pid = translating(from) ? arg_real(pid) : pid;
    pid_t r = libc_wait4 ? libc_wait4(pid, status, options, ru)
                         : (pid_t)syscall(SYS_wait4, pid, status, options, ru);
    return r > 0 && translating(from) ? to_known(r) : r;
}

API pid_t waitpid(pid_t pid, int *status, int options)
{
    return wait_any(pid, status, options, NULL, __builtin_return_address(0));
}

API pid_t wait(int *status)
{
    return wait_any(-1, status, 0, NULL, __builtin_return_address(0));
}

API pid_t wait3(int *status, int options, struct rusage *ru)
{
    return wait_any(-1, status, options, ru, __builtin_return_address(0));
}

API pid_t wait4(pid_t pid, int *status, int options, struct rusage *ru)
{
    return wait_any(pid, status, options, ru, __builtin_return_address(0));
}

API int waitid(idtype_t idtype, id_t id, siginfo_t *info, int options)
{
    const void *from = __builtin_return_address(0);
    if (translating(from) && (idtype == P_PID || idtype == P_PGID))
        id = (id_t)to_real((pid_t)id);
    int r = libc_waitid ? libc_waitid(idtype, id, info, options)
                        : (int)syscall(SYS_waitid, idtype, id, info, options, NULL);
    if (r == 0 && info && info->si_pid > 0 && translating(from))
        info->si_pid = to_known(info->si_pid);
    return r;
}

/* A thread whose wait the checkpoint's signal interrupted makes it again once the
 * handler returns (the kernel set its registers for that: rip on the `syscall`, rax
 * its number): the pid it waits for, as the program knows it, is kept across the
 * checkpoint and given back as the kernel numbers it then (a restart may renumber). */
static int waiting_call(const ucontext_t *uc, int *reg)
{
    const greg_t *g = uc->uc_mcontext.gregs;
    unsigned char code[2];
    struct iovec here = { code, sizeof code }, there = { (void *)(uintptr_t)g[REG_RIP], 2 };
    if (syscall(SYS_process_vm_readv, syscall(SYS_getpid), &here, 1, &there, 1, 0) != 2 ||
        code[0] != 0x0f || code[1] != 0x05)
        return 0;
    if (g[REG_RAX] == SYS_wait4 && (pid_t)g[REG_RDI] != 0 && (pid_t)g[REG_RDI] != -1)
        return *reg = REG_RDI, 1;
    if (g[REG_RAX] == SYS_waitid && (g[REG_RDI] == P_PID || g[REG_RDI] == P_PGID))
        return *reg = REG_RSI, 1;
    return 0;
}

void cr_pid_args_save(const ucontext_t *uc, struct cr_pid_args *a)
{
    a->reg = -1;
    int reg;
    if (!waiting_call(uc, &reg))
        return;
    a->reg = reg;
    pid_t p = (pid_t)uc->uc_mcontext.gregs[reg];
    a->known = reg == REG_RDI ? (p > 0 ? to_known(p) : -to_known(-p)) : to_known(p);
}

void cr_pid_args_restore(ucontext_t *uc, const struct cr_pid_args *a)
{
    int reg;
    if (a->reg < 0 || !waiting_call(uc, &reg) || reg != a->reg)
        return;
    pid_t real = a->known > 0 ? to_real(a->known) : -to_real(-a->known);
    if (reg == REG_RSI)
        uc->uc_mcontext.gregs[reg] = (greg_t)(uint32_t)real; /* (id_t) */
    else
        uc->uc_mcontext.gregs[reg] = (greg_t)real;
}

API pid_t tcgetpgrp(int fd)
{
    pid_t pgrp;
    if (ioctl(fd, TIOCGPGRP, &pgrp) < 0)
        return -1;
    return translating(__builtin_return_address(0)) ? to_known(pgrp) : pgrp;
}

API int tcsetpgrp(int fd, pid_t pgrp)
{
    pid_t real = translating(__builtin_return_address(0)) ? to_real(pgrp) : pgrp;
    return ioctl(fd, TIOCSPGRP, &real);
}

/* A child whose kernel pid the program knows as another process's (a process of the
 * restored tree) would be taken for it: it ends at once, before it runs anything of the
 * program, and another is made (with every signal blocked meanwhile, the program sees
 * none of it but a SIGCHLD).  The quiesce signal stays open: a checkpoint and restart
 * between the fork and the look at its pid gives a table in which that pid (of before)
 * is the restored child's: it is the program's child as it is, never made again (made
 * again, a shell's pipeline would run one of its commands twice). */
API pid_t fork(void)
{
    if (!libc_fork)
        return (pid_t)syscall(SYS_fork);
    if (!__atomic_load_n(&cr_pid_map.n, __ATOMIC_ACQUIRE))
        return libc_fork();
    sigset_t all, old;
    sigfillset(&all);
    for (int tries = 0;; tries++) {
        pthread_sigmask(SIG_BLOCK, &all, &old);
        uint64_t before = restarts_now();
        pid_t p = libc_fork();
        pid_t real = p == 0 ? (pid_t)syscall(SYS_getpid) : p;
        int again = tries < 64 && taken_as_known(real);
        if (restarts_now() != before)
            again = 0;
        else if (p >= 0 && !again) { /* (the child's copy of the table too) */
            if (p == 0)
                table_lock = 0; /* (another thread of the parent's may have held it) */
            lock_table();
            forget_ended(real);
            unlock_table();
        }
        if (p == 0 && again)
            _exit(0);
        if (p > 0 && again)
            while (syscall(SYS_wait4, p, NULL, __WALL, NULL) < 0 && errno == EINTR)
                ;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (!(p >= 0 && again))
            return p;
    }
}

/* vfork, in assembly: the child runs on the parent's stack until it execs or exits, and
 * returns from here first, so nothing the parent needs afterwards may lie below its
 * caller's frame (glibc's vfork keeps its return address in a register too): the
 * restarts counted before (rdx) and the return address (rsi) wait in registers the
 * system call keeps, and the parent, resumed once the child has exec'd or exited, hands
 * the result to vforked() on its own stack again. */
uint64_t cr_pid_restarts(void)
{
    return restarts_now();
}

long cr_pid_vforked(long r, const void *from, uint64_t before) __attribute__((visibility("hidden")));
long cr_pid_vforked(long r, const void *from, uint64_t before)
{
    if (r < 0) {
        errno = (int)-r;
        return -1;
    }
    return spawned((pid_t)r, from, before);
}

__asm__(".text\n"
        ".globl vfork\n"
        ".type vfork, @function\n"
        "vfork:\n"
        "    endbr64\n"
        "    sub $8, %rsp\n"
        "    call cr_pid_restarts\n"
        "    add $8, %rsp\n"
        "    mov %rax, %rdx\n"
        "    pop %rsi\n"
        "    mov $" CR_STR(SYS_vfork) ", %eax\n"
        "    syscall\n"
        "    push %rsi\n"
        "    test %rax, %rax\n"
        "    jz 1f\n"
        "    mov %rax, %rdi\n"
        "    sub $8, %rsp\n"
        "    call cr_pid_vforked\n"
        "    add $8, %rsp\n"
        "1:  ret\n"
        ".size vfork, .-vfork\n");

/* clone() making a process (not a thread): as vfork's and posix_spawn's, its child may
 * run at once and cannot be made again.  The child notes its own pair first (its
 * kernel pid known as another process's): through a table shared with the parent
 * (CLONE_VM) the parent finds that pair; with a copy, both choose the same number, the
 * first free beyond the kernel's in the same table.  The child starts on a note of the
 * program's function and argument at the top of its stack. */
struct clone_start {
    int (*fn)(void *);
    void *arg;
    uint64_t before;
    int flags;
};

static int clone_child(void *p)
{
    struct clone_start s = *(struct clone_start *)p;
    pid_t real = (pid_t)syscall(SYS_getpid);
    if (restarts_now() == s.before && __atomic_load_n(&cr_pid_map.n, __ATOMIC_ACQUIRE)) {
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        if (!(s.flags & CLONE_VM))
            table_lock = 0; /* (another thread of the parent's may have held it in the copy) */
        lock_table();
        if (to_known(real) == real || !(s.flags & CLONE_VM)) { /* (as spawned() does) */
            forget_ended(real);
            if (taken_as_known(real))
                known_beyond(real);
        }
        unlock_table();
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    return s.fn(s.arg);
}

API int clone(int (*fn)(void *), void *stack, int flags, void *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    pid_t *ptid = va_arg(ap, pid_t *);
    void *tls = va_arg(ap, void *);
    pid_t *ctid = va_arg(ap, pid_t *);
    va_end(ap);
    if (!libc_clone)
        return errno = ENOSYS, -1;
    const void *from = __builtin_return_address(0);
    if ((flags & CLONE_THREAD) || !stack || !fn || !translating(from))
        return libc_clone(fn, stack, flags, arg, ptid, tls, ctid);
    uint64_t before = restarts_now();
    struct clone_start *s = (struct clone_start *)(((uintptr_t)stack - sizeof *s) & ~(uintptr_t)15);
    *s = (struct clone_start){ fn, arg, before, flags };
    int r = libc_clone(clone_child, s, flags, s, ptid, tls, ctid);
    if (r <= 0)
        return r;
    if (flags & CLONE_VM) { /* (the child's pair, if it noted one) */
        pid_t known = to_known(r);
        if (known != r)
            return known;
    }
    return spawned(r, from, before);
}

/* posix_spawn and posix_spawnp (glibc's make the child with clone(CLONE_VM |
 * CLONE_VFORK) and return once it has exec'd): the child's pid as the program knows
 * it. */
/* (one for both: `from`, the program's call site, is taken in each) */
static int spawn_known(spawn_fn *libc_fn, pid_t *pid, const char *path,
                       const posix_spawn_file_actions_t *actions, const posix_spawnattr_t *attr,
                       char *const argv[], char *const envp[], const void *from)
{
    uint64_t before = restarts_now();
    pid_t real = 0;
    int rc = libc_fn ? libc_fn(&real, path, actions, attr, argv, envp) : ENOSYS;
    if (rc == 0 && pid)
        *pid = spawned(real, from, before);
    return rc;
}

API int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *actions,
                    const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    return spawn_known(libc_posix_spawn, pid, path, actions, attr, argv, envp,
                       __builtin_return_address(0));
}

API int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *actions,
                     const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    return spawn_known(libc_posix_spawnp, pid, file, actions, attr, argv, envp,
                       __builtin_return_address(0));
}

void cr_pid_creds_known(struct msghdr *msg, const void *from)
{
    if (!translating(from) || !msg->msg_control)
        return;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
            c->cmsg_len >= CMSG_LEN(sizeof(struct ucred))) {
            struct ucred cred;
            memcpy(&cred, CMSG_DATA(c), sizeof cred);
            if (cred.pid > 0) {
                cred.pid = to_known(cred.pid);
                memcpy(CMSG_DATA(c), &cred, sizeof cred);
            }
        }
}

/* A message sent with SCM_CREDENTIALS names the sender's pid as the program knows it:
 * the kernel wants the one it numbers (a copy of the control data carries it). */
API ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    unsigned char control[1024] __attribute__((aligned(8)));
    struct msghdr copy;
    if (msg && msg->msg_control && msg->msg_controllen <= sizeof control &&
        translating(__builtin_return_address(0))) {
        copy = *msg;
        memcpy(control, msg->msg_control, msg->msg_controllen);
        copy.msg_control = control;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&copy); c; c = CMSG_NXTHDR(&copy, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
                c->cmsg_len >= CMSG_LEN(sizeof(struct ucred))) {
                struct ucred cred;
                memcpy(&cred, CMSG_DATA(c), sizeof cred);
                cred.pid = to_real(cred.pid);
                memcpy(CMSG_DATA(c), &cred, sizeof cred);
            }
        msg = &copy;
    }
    return libc_sendmsg ? libc_sendmsg(fd, msg, flags) : syscall(SYS_sendmsg, fd, msg, flags);
}

/* A call made through syscall() (aio.c's, which takes the AIO calls): the calls that
 * take or give a pid, as the functions above (a pid as the first argument; kcmp's and
 * setpgid's second too, waitid's id); the others as they are.  `call` makes one and
 * returns the result or -1 with errno. */
long cr_pid_syscall(long nr, long a[6], const void *from, long (*call)(long, long, long, long, long, long, long))
{
    if (!translating(from))
        return call(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    switch (nr) {
    case SYS_getpid: case SYS_getppid: case SYS_getpgrp: {
        long r = call(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
        return r > 0 ? to_known((pid_t)r) : r;
    }
    case SYS_getpgid: case SYS_getsid: case SYS_wait4: {
        long r = call(nr, (long)arg_real((pid_t)a[0]), a[1], a[2], a[3], a[4], a[5]);
        return r > 0 ? to_known((pid_t)r) : r;
    }
    case SYS_waitid: {
        if (a[0] == P_PID || a[0] == P_PGID)
            a[1] = (long)(uint32_t)to_real((pid_t)a[1]);
        long r = call(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
        siginfo_t *info = (siginfo_t *)a[2];
        if (r == 0 && info && info->si_pid > 0)
            info->si_pid = to_known(info->si_pid);
        return r;
    }
    case SYS_kill: case SYS_setpgid: case SYS_rt_sigqueueinfo: case SYS_tgkill:
    case SYS_rt_tgsigqueueinfo: case SYS_prlimit64: case SYS_process_vm_readv:
    case SYS_process_vm_writev: case SYS_sched_setaffinity: case SYS_sched_getaffinity:
    case SYS_sched_setparam: case SYS_sched_getparam: case SYS_sched_setscheduler:
    case SYS_sched_getscheduler: case SYS_sched_rr_get_interval: case SYS_get_robust_list:
#ifdef SYS_pidfd_open
    case SYS_pidfd_open:
#endif
        a[0] = (long)arg_real((pid_t)a[0]);
        if (nr == SYS_setpgid)
            a[1] = (long)arg_real((pid_t)a[1]);
        break;
    case SYS_kcmp:
        a[0] = (long)arg_real((pid_t)a[0]);
        a[1] = (long)arg_real((pid_t)a[1]);
        break;
    default:
        break;
    }
    return call(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

int cr_pid_program_call(const void *from)
{
    return !((uintptr_t)from >= own_start && (uintptr_t)from < own_end);
}

int cr_pid_translating(const void *from)
{
    return translating(from);
}

/* The sender a signal's siginfo names (kill, sigqueue, tgkill, mq_notify's message's
 * writer, a child's change for SIGCHLD), as the program knows it; the kernel's own
 * signals name none. */
void cr_pid_siginfo_real(siginfo_t *info)
{
    if (!info || info->si_pid <= 0 || !__atomic_load_n(&cr_pid_map.n, __ATOMIC_ACQUIRE))
        return;
    int c = info->si_code;
    if (c == SI_USER || c == SI_QUEUE || c == SI_TKILL || c == SI_MESGQ ||
        (info->si_signo == SIGCHLD && c > 0))
        info->si_pid = to_real(info->si_pid);
}

void cr_pid_siginfo_known(siginfo_t *info)
{
    if (!info || info->si_pid <= 0 || !__atomic_load_n(&cr_pid_map.n, __ATOMIC_ACQUIRE))
        return;
    int c = info->si_code;
    if (c == SI_USER || c == SI_QUEUE || c == SI_TKILL || c == SI_MESGQ ||
        (info->si_signo == SIGCHLD && c > 0))
        info->si_pid = to_known(info->si_pid);
}

API int sigtimedwait(const sigset_t *set, siginfo_t *info, const struct timespec *t)
{
    if (!libc_sigtimedwait)
        libc_sigtimedwait = (__typeof(libc_sigtimedwait))dlsym(RTLD_NEXT, "sigtimedwait");
    int r = libc_sigtimedwait ? libc_sigtimedwait(set, info, t) : (errno = ENOSYS, -1);
    if (r > 0 && translating(__builtin_return_address(0)))
        cr_pid_siginfo_known(info);
    return r;
}

API int sigwaitinfo(const sigset_t *set, siginfo_t *info)
{
    if (!libc_sigtimedwait)
        libc_sigtimedwait = (__typeof(libc_sigtimedwait))dlsym(RTLD_NEXT, "sigtimedwait");
    int r = libc_sigtimedwait ? libc_sigtimedwait(set, info, NULL) : (errno = ENOSYS, -1);
    if (r > 0 && translating(__builtin_return_address(0)))
        cr_pid_siginfo_known(info);
    return r;
}

pid_t cr_pid_known(pid_t real)
{
    return real > 0 ? to_known(real) : real;
}

pid_t cr_pid_real(pid_t known)
{
    return known > 0 ? to_real(known) : known;
}

void cr_pid_lock_holder_known(void *flock_arg, const void *from)
{
    struct flock *fl = flock_arg;
    if (translating(from) && fl->l_type != F_UNLCK && fl->l_pid > 0)
        fl->l_pid = to_known(fl->l_pid);
}

API pid_t tcgetsid(int fd)
{
    pid_t sid;
    if (ioctl(fd, TIOCGSID, &sid) < 0)
        return -1;
    return translating(__builtin_return_address(0)) ? to_known(sid) : sid;
}

/* The peer of a unix socket (SO_PEERCRED), as the program knows it. */
API int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
    int r = libc_getsockopt ? libc_getsockopt(fd, level, name, val, len)
                            : (int)syscall(SYS_getsockopt, fd, level, name, val, len);
    if (r == 0 && level == SOL_SOCKET && name == SO_PEERCRED && val && len &&
        *len >= sizeof(struct ucred) && translating(__builtin_return_address(0))) {
        struct ucred cred;
        memcpy(&cred, val, sizeof cred);
        if (cred.pid > 0) {
            cred.pid = to_known(cred.pid);
            memcpy(val, &cred, sizeof cred);
        }
    }
    return r;
}

/* The owner of an fd's signals (a process, or a group as its negative): what
 * F_SETOWN and F_SETOWN_EX are given, as the kernel numbers it (ex: room for the
 * copy F_SETOWN_EX is given instead); the argument to pass. */
void *cr_pid_owner_arg(int cmd, void *arg, struct f_owner_ex *ex, const void *from)
{
    if (!translating(from))
        return arg;
    if (cmd == F_SETOWN)
        return (void *)(intptr_t)arg_real((pid_t)(intptr_t)arg);
    if (cmd == F_SETOWN_EX && arg) {
        memcpy(ex, arg, sizeof *ex);
        if (ex->type == F_OWNER_PID || ex->type == F_OWNER_PGRP)
            ex->pid = cr_pid_real(ex->pid);
        return ex;
    }
    return arg;
}

/* F_GETOWN's result and F_GETOWN_EX's answer, as the program knows them. */
int cr_pid_owner_result(int cmd, int r, void *arg, const void *from)
{
    if (!translating(from))
        return r;
    if (cmd == F_GETOWN && r != 0 && r != -1)
        return r > 0 ? to_known(r) : -to_known(-r);
    if (cmd == F_GETOWN_EX && r == 0 && arg) {
        struct f_owner_ex ex;
        memcpy(&ex, arg, sizeof ex);
        if (ex.type == F_OWNER_PID || ex.type == F_OWNER_PGRP) {
            ex.pid = cr_pid_known(ex.pid);
            memcpy(arg, &ex, sizeof ex);
        }
    }
    return r;
}

/* The other calls of libc that take a pid and reach the kernel without kill() or
 * syscall(): the pid as the kernel numbers it (0, the caller, as it is).  libc's own,
 * found once at start-up. */
#define CALL_OF_LIBC(ret, name, params) static ret(*libc_##name) params;
CALL_OF_LIBC(int, sigqueue, (pid_t, int, const union sigval))
CALL_OF_LIBC(int, prlimit, (pid_t, int, const struct rlimit *, struct rlimit *))
CALL_OF_LIBC(int, getpriority, (int, id_t))
CALL_OF_LIBC(int, setpriority, (int, id_t, int))
CALL_OF_LIBC(int, sched_setaffinity, (pid_t, size_t, const cpu_set_t *))
CALL_OF_LIBC(int, sched_getaffinity, (pid_t, size_t, cpu_set_t *))
CALL_OF_LIBC(int, sched_setparam, (pid_t, const struct sched_param *))
CALL_OF_LIBC(int, sched_getparam, (pid_t, struct sched_param *))
CALL_OF_LIBC(int, sched_setscheduler, (pid_t, int, const struct sched_param *))
CALL_OF_LIBC(int, sched_getscheduler, (pid_t))
CALL_OF_LIBC(int, sched_rr_get_interval, (pid_t, struct timespec *))
CALL_OF_LIBC(int, pidfd_open, (pid_t, unsigned))

CR_LOOKUP_CONSTRUCTOR static void find_pid_calls(void)
{
#define FIND(name) libc_##name = (__typeof(libc_##name))dlsym(RTLD_NEXT, #name)
    FIND(sigqueue);
    FIND(prlimit);
    FIND(getpriority);
    FIND(setpriority);
    FIND(sched_setaffinity);
    FIND(sched_getaffinity);
    FIND(sched_setparam);
    FIND(sched_getparam);
    FIND(sched_setscheduler);
    FIND(sched_getscheduler);
    FIND(sched_rr_get_interval);
    FIND(pidfd_open);
#undef FIND
}

/* a pid argument of the program's, as the kernel numbers it */
#define REAL(pid) (translating(__builtin_return_address(0)) ? arg_real(pid) : (pid))
/* (a call libc does not have here: ENOSYS, as the kernel would say) */
#define OR_NOSYS(name, args) (libc_##name ? libc_##name args : (errno = ENOSYS, -1))

API int sigqueue(pid_t pid, int sig, const union sigval value)
{
    return OR_NOSYS(sigqueue, (REAL(pid), sig, value));
}

API int prlimit(pid_t pid, enum __rlimit_resource res, const struct rlimit *lim, struct rlimit *old)
{
    return OR_NOSYS(prlimit, (REAL(pid), (int)res, lim, old));
}

/* (PRIO_PROCESS and PRIO_PGRP name a process or a group; PRIO_USER a user) */
API int getpriority(__priority_which_t which, id_t who)
{
    if ((which == PRIO_PROCESS || which == PRIO_PGRP) && (pid_t)who > 0)
        who = (id_t)REAL((pid_t)who);
    return OR_NOSYS(getpriority, ((int)which, who));
}

API int setpriority(__priority_which_t which, id_t who, int prio)
{
    if ((which == PRIO_PROCESS || which == PRIO_PGRP) && (pid_t)who > 0)
        who = (id_t)REAL((pid_t)who);
    return OR_NOSYS(setpriority, ((int)which, who, prio));
}

API int sched_setaffinity(pid_t pid, size_t len, const cpu_set_t *set)
{
    return OR_NOSYS(sched_setaffinity, (REAL(pid), len, set));
}

API int sched_getaffinity(pid_t pid, size_t len, cpu_set_t *set)
{
    return OR_NOSYS(sched_getaffinity, (REAL(pid), len, set));
}

API int sched_setparam(pid_t pid, const struct sched_param *sp)
{
    return OR_NOSYS(sched_setparam, (REAL(pid), sp));
}

API int sched_getparam(pid_t pid, struct sched_param *sp)
{
    return OR_NOSYS(sched_getparam, (REAL(pid), sp));
}

API int sched_setscheduler(pid_t pid, int policy, const struct sched_param *sp)
{
    return OR_NOSYS(sched_setscheduler, (REAL(pid), policy, sp));
}

API int sched_getscheduler(pid_t pid)
{
    return OR_NOSYS(sched_getscheduler, (REAL(pid)));
}

API int sched_rr_get_interval(pid_t pid, struct timespec *t)
{
    return OR_NOSYS(sched_rr_get_interval, (REAL(pid), t));
}

API int pidfd_open(pid_t pid, unsigned int flags)
{
    pid_t real = REAL(pid);
    return libc_pidfd_open ? libc_pidfd_open(real, flags) : (int)syscall(SYS_pidfd_open, real, flags);
}
