/* System calls injected into a stopped tracee: its registers are pointed at a `syscall`
 * instruction of its own memory with the call's number and arguments, it runs to the
 * system call's exit (PTRACE_SYSCALL twice), the result is read, and its registers are
 * put back.  Signals are blocked meanwhile (PTRACE_SETSIGMASK), so nothing but the
 * call runs on our registers.  The way CRIU's compel runs a syscall in its target,
 * written from the ptrace(2) manual. */
#define _GNU_SOURCE
#include "syscall_inject.h"
#include "say.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PTRACE_GETSIGMASK
#define PTRACE_GETSIGMASK 0x420a
#define PTRACE_SETSIGMASK 0x420b
#endif

/* The first 0f 05 in [start, end) of the target's memory (mem: /proc/PID/mem). */
static uint64_t find_in(int mem, uint64_t start, uint64_t end)
{
    unsigned char buf[4096];
    unsigned char prev = 0;
    for (uint64_t a = start; a < end; a += sizeof buf) {
        ssize_t n = pread(mem, buf, sizeof buf, (off_t)a);
        if (n <= 0)
            return 0;
        for (ssize_t i = 0; i < n; i++) {
            if (prev == 0x0f && buf[i] == 0x05)
                return a + (uint64_t)i - 1;
            prev = buf[i];
        }
    }
    return 0;
}

int cr_inject_find_syscall(pid_t pid, uint64_t *ip, char *msg, size_t msglen)
{
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    FILE *maps = fopen(path, "re");
    snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
    int mem = open(path, O_RDONLY | O_CLOEXEC);
    if (!maps || mem < 0) {
        int e = errno;
        if (maps)
            fclose(maps);
        if (mem >= 0)
            close(mem);
        return cr_say(msg, msglen, e, "cannot read the memory of process %d: %s", (int)pid, strerror(e));
    }
    *ip = 0;
    /* the vdso first (its fallbacks make system calls), then any code */
    for (int pass = 0; pass < 2 && !*ip; pass++) {
        rewind(maps);
        while (!*ip && fgets(line, sizeof line, maps)) {
            unsigned long long s, e;
            char perms[5];
            int pos = 0;
            if (sscanf(line, "%llx-%llx %4s %*s %*s %*s %n", &s, &e, perms, &pos) < 3 || perms[2] != 'x')
                continue;
            int vdso = strstr(line + pos, "[vdso]") != NULL;
            if ((pass == 0) == vdso && strncmp(line + pos, "[vsyscall]", 10))
                *ip = find_in(mem, s, e);
        }
    }
    fclose(maps);
    close(mem);
    if (!*ip)
        return cr_say(msg, msglen, ENOEXEC, "process %d has no system call instruction in its "
                   "memory to run the calls the checkpoint needs", (int)pid);
    return 0;
}

int cr_inject_begin(struct cr_inject *in, pid_t tid, uint64_t syscall_ip, char *msg, size_t msglen)
{
    memset(in, 0, sizeof *in);
    in->tid = tid;
    in->syscall_ip = syscall_ip;
    uint64_t all = ~0ULL;
    if (ptrace(PTRACE_GETREGS, tid, NULL, &in->saved) < 0 ||
        ptrace(PTRACE_GETSIGMASK, tid, (void *)sizeof in->saved_mask, &in->saved_mask) < 0 ||
        ptrace(PTRACE_SETSIGMASK, tid, (void *)sizeof all, &all) < 0)
        return cr_say(msg, msglen, errno, "cannot read the registers of thread %d: %s", (int)tid,
                   strerror(errno));
    /* A thread stopped inside a system call calls it again once it runs on, as the
     * kernel would have (its registers are put back at its syscall instruction: nothing
     * injected here may take the restart's place). */
    int64_t orig = (int64_t)in->saved.orig_rax, rax = (int64_t)in->saved.rax;
    if (orig >= 0 && (rax == -512 || rax == -513 || rax == -514)) {
        in->saved.rax = (uint64_t)orig;
        in->saved.rip -= 2;
    } else if (orig >= 0 && rax == -516) { /* its restart block is still the kernel's */
        in->saved.rax = 219;               /* __NR_restart_syscall */
        in->saved.rip -= 2;
    }
    in->saved.orig_rax = (uint64_t)-1;
    in->active = 1;
    return 0;
}

int cr_wait_traced(pid_t tid, int *status)
{
    for (;;) {
        siginfo_t si;
        memset(&si, 0, sizeof si);
        if (waitid(P_PID, (id_t)tid, &si, WEXITED | WSTOPPED | __WALL | WNOWAIT) < 0) {
            if (errno == EINTR)
                continue;
            return errno == ECHILD ? 1 : -errno;
        }
        if (si.si_code == CLD_EXITED || si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED)
            return 1;
        pid_t w = waitpid(tid, status, __WALL | WNOHANG); /* the stop it reported */
        if (w == tid && WIFSTOPPED(*status))
            return 0;
        if (w == tid) /* (ended between the two) */
            return 1;
    }
}

/* Runs the thread to its next syscall stop (entry or exit). */
static int to_syscall_stop(struct cr_inject *in, char *msg, size_t msglen)
{
    if (ptrace(PTRACE_SYSCALL, in->tid, NULL, NULL) < 0)
        return cr_say(msg, msglen, errno, "cannot run thread %d: %s", (int)in->tid, strerror(errno));
    for (;;) {
        int st;
        int rc = cr_wait_traced(in->tid, &st);
        if (rc < 0)
            return cr_say(msg, msglen, -rc, "waiting for thread %d: %s", (int)in->tid, strerror(-rc));
        if (rc == 1)
            return cr_say(msg, msglen, ESRCH, "thread %d ended meanwhile", (int)in->tid);
        if (WSTOPSIG(st) == (SIGTRAP | 0x80))
            return 0;
        /* a group stop (SIGSTOP sent meanwhile) or another event: not our call's */
        return cr_say(msg, msglen, EAGAIN, "thread %d stopped for something else (status 0x%x) "
                   "during the checkpoint: try again", (int)in->tid, st);
    }
}

int cr_inject_call(struct cr_inject *in, long *ret, long nr, long a, long b, long c, long d, long e,
                   long f, char *msg, size_t msglen)
{
    struct user_regs_struct r = in->saved;
    r.rip = in->syscall_ip;
    r.rax = (uint64_t)nr;
    r.orig_rax = (uint64_t)-1;
    r.rdi = (uint64_t)a, r.rsi = (uint64_t)b, r.rdx = (uint64_t)c;
    r.r10 = (uint64_t)d, r.r8 = (uint64_t)e, r.r9 = (uint64_t)f;
    if (ptrace(PTRACE_SETREGS, in->tid, NULL, &r) < 0)
        return cr_say(msg, msglen, errno, "cannot set the registers of thread %d: %s", (int)in->tid,
                   strerror(errno));
    int rc = to_syscall_stop(in, msg, msglen); /* its entry */
    if (rc == 0)
        rc = to_syscall_stop(in, msg, msglen); /* its exit */
    if (rc == 0 && ptrace(PTRACE_GETREGS, in->tid, NULL, &r) < 0)
        rc = cr_say(msg, msglen, errno, "cannot read the registers of thread %d: %s", (int)in->tid,
                 strerror(errno));
    if (rc == 0 && r.rip != in->syscall_ip + 2)
        rc = cr_say(msg, msglen, EIO, "thread %d did not run the injected system call", (int)in->tid);
    if (rc == 0)
        *ret = (long)r.rax;
    return rc;
}

int cr_inject_end(struct cr_inject *in, char *msg, size_t msglen)
{
    if (!in->active)
        return 0;
    in->active = 0;
    if (ptrace(PTRACE_SETREGS, in->tid, NULL, &in->saved) < 0 ||
        ptrace(PTRACE_SETSIGMASK, in->tid, (void *)sizeof in->saved_mask, &in->saved_mask) < 0)
        return cr_say(msg, msglen, errno, "cannot put back the registers of thread %d: %s",
                   (int)in->tid, strerror(errno));
    return 0;
}
