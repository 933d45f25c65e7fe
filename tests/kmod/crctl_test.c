/* Runs inside the qemu guest (tests/kmod/boot.sh), as root, after insmod crctl.ko:
 * exercises /dev/crctl's ioctls, as root and as uid 1000, and prints one
 * "KMOD-TEST: PASS|FAIL name" line per check and a closing RESULT line that the host
 * parses.  Static, no dependency but libc. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/rseq.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <grp.h>

#include "../../kmod/crctl.h"

#ifndef CAP_CHECKPOINT_RESTORE
#define CAP_CHECKPOINT_RESTORE 40
#endif
#define USER_UID 1000

static int passed, failed;

static void check(const char *name, int ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void check(const char *name, int ok, const char *fmt, ...)
{
    char why[200] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    printf("KMOD-TEST: %s %s%s%s\n", ok ? "PASS" : "FAIL", name, why[0] ? " - " : "", why);
    fflush(stdout);
    ok ? passed++ : failed++;
}

/* ioctl's result as "0" or the errno's name, for the checks and the messages */
static int xioctl(int fd, unsigned long cmd, void *arg)
{
    return ioctl(fd, cmd, arg) < 0 ? errno : 0;
}

static void expect_errno(const char *name, int got, int want)
{
    check(name, got == want, "got %s (%d), want %s (%d)", got ? strerrorname_np(got) : "0", got,
          want ? strerrorname_np(want) : "0", want);
}

/* which sets of the calling thread hold CAP_CHECKPOINT_RESTORE: bit 0 effective,
 * 1 permitted, 2 inheritable */
static int restore_cap(void)
{
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct d[2];
    if (syscall(SYS_capget, &h, d) < 0)
        return -1;
    uint32_t bit = 1u << (CAP_CHECKPOINT_RESTORE - 32);
    return (d[1].effective & bit ? 1 : 0) | (d[1].permitted & bit ? 2 : 0) | (d[1].inheritable & bit ? 4 : 0);
}

/* make CAP_CHECKPOINT_RESTORE inheritable (capset): 0 or the errno */
static int make_inheritable(void)
{
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct d[2];
    if (syscall(SYS_capget, &h, d) < 0)
        return errno;
    d[1].inheritable |= 1u << (CAP_CHECKPOINT_RESTORE - 32);
    return syscall(SYS_capset, &h, d) < 0 ? errno : 0;
}

static int in_bset(void)
{
    return prctl(PR_CAPBSET_READ, CAP_CHECKPOINT_RESTORE, 0, 0, 0);
}

/* fork with exactly pid `want` (clone3 set_tid): the child exits at once.  Returns 0
 * when the child had that pid, else the errno. */
static int fork_with_pid(pid_t want)
{
    struct clone_args ca;
    memset(&ca, 0, sizeof ca);
    ca.exit_signal = SIGCHLD;
    ca.set_tid = (uint64_t)(uintptr_t)&want;
    ca.set_tid_size = 1;
    long r = syscall(SYS_clone3, &ca, sizeof ca);
    if (r < 0)
        return errno;
    if (r == 0)
        _exit(getpid() == want ? 0 : 1);
    int st;
    waitpid((pid_t)r, &st, 0);
    return r == want && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : EPROTO;
}

static pid_t free_pid(void)
{
    for (pid_t p = getpid() + 200; p < 30000; p++)
        if (kill(p, 0) < 0 && errno == ESRCH)
            return p;
    return -1;
}

static int make_file(const char *path, const char *contents, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, contents, strlen(contents)) < 0 || fchmod(fd, mode) < 0)
        return -1;
    return close(fd);
}

/* does the module's reason for the last refusal on dev contain `word` ("" : empty)? */
static int said(int dev, const char *word, char *text, size_t len)
{
    struct crctl_message m;
    memset(&m, 0xff, sizeof m);
    if (ioctl(dev, CRCTL_LAST_ERROR, &m) < 0 || !memchr(m.text, 0, sizeof m.text))
        return snprintf(text, len, "CRCTL_LAST_ERROR: %s", strerror(errno)), 0;
    snprintf(text, len, "\"%s\"", m.text);
    return *word ? strstr(m.text, word) != NULL : m.text[0] == 0;
}

static void expect_said(const char *name, int dev, const char *word)
{
    char text[300];
    int ok = said(dev, word, text, sizeof text);
    check(name, ok, "%s (want %s%s%s)", text, *word ? "\"" : "empty", word, *word ? "\"" : "");
}

static int grant(int dev, int image_fd, uint32_t flags, uint32_t pad)
{
    struct crctl_grant g = { .image_fd = image_fd, .flags = flags, .pad = pad };
    return xioctl(dev, CRCTL_RESTORE_GRANT, &g);
}

/* the grant for a restore that makes the npids pids (a process alone, or a tree) */
static int grant_pids(int dev, int image_fd, uint32_t flags, const int32_t *pids, uint32_t npids)
{
    struct crctl_grant g = { .image_fd = image_fd, .flags = flags,
                             .pids = (uint64_t)(uintptr_t)pids, .npids = npids };
    return xioctl(dev, CRCTL_RESTORE_GRANT, &g);
}

/* the module's reply must not carry stale bytes (we filled the struct with 0xff) */
static int zeroed(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

/* What a tracee knows of itself, to compare with CRCTL_TASK_INFO's answer */
struct self_info {
    uint64_t ctid, rseq, sas_sp, sas_size;
};

/* "tracee FD": an exec'd child (so that it is dumpable whoever we are) that sets a
 * sigaltstack, writes what it knows of itself to FD and waits to be killed. */
static int tracee(int fd)
{
    static char altstack[65536];
    stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0 };
    struct self_info e = { 0 };
    int *ctid = NULL;
    if (sigaltstack(&ss, NULL) < 0 || prctl(PR_GET_TID_ADDRESS, &ctid) < 0)
        return 1;
    e.ctid = (uint64_t)(uintptr_t)ctid;
    e.rseq = __rseq_size ? (uint64_t)(uintptr_t)((char *)__builtin_thread_pointer() + __rseq_offset) : 0;
    e.sas_sp = (uint64_t)(uintptr_t)altstack;
    e.sas_size = sizeof altstack;
    if (write(fd, &e, sizeof e) != sizeof e)
        return 1;
    for (;;)
        pause();
}

static int task_info(int dev, pid_t tid, struct crctl_task_info *t)
{
    memset(t, 0, sizeof *t);
    t->tid = tid;
    return xioctl(dev, CRCTL_TASK_INFO, t);
}

/* CRCTL_TASK_INFO: refused unless we trace the thread and it is stopped; then exactly
 * what the thread knows of itself. `who` prefixes the check names. */
static void task_info_checks(int dev, const char *who)
{
    char n[80];
#define N(x) (snprintf(n, sizeof n, "%s-%s", who, x), n)
    int p[2];
    if (pipe(p) < 0)
        return;
    pid_t c = fork();
    if (c == 0) {
        char fd[16];
        snprintf(fd, sizeof fd, "%d", p[1]);
        execl("/proc/self/exe", "crctl_test", "tracee", fd, (char *)NULL);
        _exit(99);
    }
    close(p[1]);
    struct self_info e;
    if (read(p[0], &e, sizeof e) != sizeof e) {
        check(N("tracee-started"), 0, "the tracee did not start");
        return;
    }
    close(p[0]);
    struct crctl_task_info t;
    expect_errno(N("task-info-not-traced"), task_info(dev, c, &t), EPERM);
    check(N("ptrace-seize"), ptrace(PTRACE_SEIZE, c, 0, 0) == 0, "%s", strerror(errno));
    expect_errno(N("task-info-traced-running"), task_info(dev, c, &t), EBUSY);
    expect_said(N("task-info-running-says-why"), dev, "PTRACE_INTERRUPT");
    int st = 0;
    check(N("ptrace-interrupt"), ptrace(PTRACE_INTERRUPT, c, 0, 0) == 0 &&
                                     waitpid(c, &st, __WALL) == c && WIFSTOPPED(st),
          "status %#x", st);
    int r = task_info(dev, c, &t);
    check(N("task-info"), r == 0 && t.tid == c && t.clear_child_tid == e.ctid && t.rseq == e.rseq &&
                              (e.rseq == 0 || (t.rseq_len >= 32 && t.rseq_sig == 0x53053053)) &&
                              t.sas_ss_sp == e.sas_sp && t.sas_ss_size == e.sas_size &&
                              t.sas_ss_flags == 0 && t.pad == 0 &&
                              zeroed((const char *)t.reserved, sizeof t.reserved),
          "rc %d ctid %#llx/%#llx rseq %#llx/%#llx len %u sig %#x sas %#llx/%#llx size %llu flags %u", r,
          (unsigned long long)t.clear_child_tid, (unsigned long long)e.ctid,
          (unsigned long long)t.rseq, (unsigned long long)e.rseq, t.rseq_len, t.rseq_sig,
          (unsigned long long)t.sas_ss_sp, (unsigned long long)e.sas_sp,
          (unsigned long long)t.sas_ss_size, t.sas_ss_flags);
    memset(&t, 0, sizeof t);
    t.tid = c;
    t.flags = 1;
    expect_errno(N("task-info-flags"), xioctl(dev, CRCTL_TASK_INFO, &t), EINVAL);
    t.flags = 0;
    t.reserved[3] = 1;
    expect_errno(N("task-info-reserved"), xioctl(dev, CRCTL_TASK_INFO, &t), EINVAL);
    expect_errno(N("task-info-tid-0"), task_info(dev, 0, &t), EINVAL);
    expect_errno(N("task-info-no-such-tid"), task_info(dev, free_pid(), &t), ESRCH);
    expect_errno(N("task-info-bad-pointer"), xioctl(dev, CRCTL_TASK_INFO, (void *)8), EFAULT);
    /* a process of ours that is not the tracer gets nothing */
    pid_t o = fork();
    if (o == 0)
        _exit(task_info(dev, c, &t));
    int os;
    waitpid(o, &os, 0);
    expect_errno(N("task-info-not-the-tracer"), WIFEXITED(os) ? WEXITSTATUS(os) : -1, EPERM);
    kill(c, SIGKILL);
    waitpid(c, &st, __WALL);
#undef N
}

static const char image[] = CRCTL_CTX_MAGIC "and the rest of a context file";

/* The normal user's part: every refusal of the grant, then one grant and its use. */
static void as_user(void)
{
    int dev = open(CRCTL_DEVICE, O_RDWR);
    check("user-open", dev >= 0, "open %s as uid %d: %s", CRCTL_DEVICE, getuid(), strerror(errno));
    if (dev < 0)
        return;
    check("user-no-cap-before", restore_cap() == 0 && in_bset() == 1, "cap sets %d, bounding %d",
          restore_cap(), in_bset());
    task_info_checks(dev, "user");
    struct crctl_task_info t;
    expect_errno("user-task-info-of-root-process", task_info(dev, 1, &t), EPERM);
    check("user-dumpable-before-grant", prctl(PR_GET_DUMPABLE) == 1, "dumpable %d",
          prctl(PR_GET_DUMPABLE));
    pid_t want = free_pid();
    expect_errno("user-set_tid-refused-without-grant", fork_with_pid(want), EPERM);

    make_file("/tmp/u/own.img", image, 0600);
    make_file("/tmp/u/open.img", image, 0622);
    make_file("/tmp/u/notimage", "just a file, long enough to read sixteen bytes", 0600);
    make_file("/tmp/u/short.img", "SLURMCR", 0600);
    int own = open("/tmp/u/own.img", O_RDONLY);
    int own_wronly = open("/tmp/u/own.img", O_WRONLY);
    int others = open("/tmp/root.img", O_RDONLY);
    int groupw = open("/tmp/u/open.img", O_RDONLY);
    int notimage = open("/tmp/u/notimage", O_RDONLY);
    int shortf = open("/tmp/u/short.img", O_RDONLY);
    int dir = open("/tmp/u", O_RDONLY | O_DIRECTORY);
    int opath = open("/tmp/u/own.img", O_PATH);

    expect_errno("grant-unknown-flag", grant(dev, own, 2, 0), EINVAL);
    expect_errno("grant-padding-nonzero", grant(dev, own, 0, 7), EINVAL);
    /* the pid list (CRCTL_GRANT_PIDS): its shape, then each pid, before any grant */
    static int32_t pids[300];
    for (int i = 0; i < 300; i++)
        pids[i] = 3000000 + i; /* (pids the guest never reaches: free, and under PID_MAX_LIMIT) */
    expect_errno("grant-pids-without-flag", grant_pids(dev, own, 0, pids, 1), EINVAL);
    expect_errno("grant-pids-empty", grant_pids(dev, own, CRCTL_GRANT_PIDS, pids, 0), EINVAL);
    expect_errno("grant-pids-too-many", grant_pids(dev, own, CRCTL_GRANT_PIDS, pids,
                                                   CRCTL_GRANT_MAX_PIDS + 1), EINVAL);
    expect_errno("grant-pids-bad-address", grant_pids(dev, own, CRCTL_GRANT_PIDS, (int32_t *)16, 1),
                 EFAULT);
    /* (a list longer than it is: the module's chunks of 64 reach the bad page) */
    int32_t *edge = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (edge != MAP_FAILED) {
        munmap((char *)edge + 4096, 4096);
        for (int i = 0; i < 1024; i++)
            edge[i] = 3000000 + i;
        expect_errno("grant-pids-list-past-its-memory",
                     grant_pids(dev, own, CRCTL_GRANT_PIDS, edge, 1025), EFAULT);
        munmap(edge, 4096);
    }
    int32_t bad[3][2] = { { 3000000, 0 }, { -5, 3000001 }, { 3000000, 4194305 } };
    expect_errno("grant-pids-zero", grant_pids(dev, own, CRCTL_GRANT_PIDS, bad[0], 2), EINVAL);
    expect_errno("grant-pids-negative", grant_pids(dev, own, CRCTL_GRANT_PIDS, bad[1], 2), EINVAL);
    expect_errno("grant-pids-above-limit", grant_pids(dev, own, CRCTL_GRANT_PIDS, bad[2], 2), EINVAL);
    expect_said("grant-pids-above-limit-says-why", dev, "entry 1 of the pid list, 4194305, is not a pid");
    pids[130] = getpid(); /* (in the third chunk) */
    expect_errno("grant-pids-one-taken", grant_pids(dev, own, CRCTL_GRANT_PIDS, pids, 300), EBUSY);
    char taken[80];
    snprintf(taken, sizeof taken, "pid %d is in use", (int)getpid());
    expect_said("grant-pids-one-taken-says-which", dev, taken);
    pids[130] = 3000130;
    expect_errno("grant-bad-pointer", xioctl(dev, CRCTL_RESTORE_GRANT, (void *)16), EFAULT);
    expect_errno("grant-bad-fd", grant(dev, -1, 0, 0), EBADF);
    expect_errno("grant-closed-fd", grant(dev, 999, 0, 0), EBADF);
    expect_errno("grant-o_path-fd", grant(dev, opath, 0, 0), EBADF);
    expect_errno("grant-write-only-fd", grant(dev, own_wronly, 0, 0), EBADF);
    expect_errno("grant-image-of-root", grant(dev, others, 0, 0), EPERM);
    expect_said("grant-image-of-root-says-why", dev, "belongs to uid 0, not to you (uid 1000)");
    expect_errno("grant-image-group-writable", grant(dev, groupw, 0, 0), EPERM);
    expect_said("grant-image-group-writable-says-why", dev, "chmod go-w");
    expect_errno("grant-not-an-image", grant(dev, notimage, 0, 0), ENOEXEC);
    expect_errno("grant-short-file", grant(dev, shortf, 0, 0), ENOEXEC);
    expect_errno("grant-directory", grant(dev, dir, 0, 0), EINVAL);
    expect_errno("end-without-grant", xioctl(dev, CRCTL_RESTORE_END, NULL), EINVAL);
    check("user-no-cap-after-refusals", restore_cap() == 0, "cap sets %d", restore_cap());

    /* a tree's restore: every pid it makes is free */
    want = free_pid();
    pids[0] = want;
    expect_errno("grant-own-image-with-free-pids", grant_pids(dev, own, CRCTL_GRANT_PIDS, pids, 300), 0);
    expect_said("grant-success-leaves-no-reason", dev, "");
    check("grant-gives-effective-permitted-only", restore_cap() == 3, "cap sets %d (want 3)",
          restore_cap());
    check("grant-makes-nondumpable", prctl(PR_GET_DUMPABLE) == 0, "dumpable %d",
          prctl(PR_GET_DUMPABLE));
    expect_errno("grant-twice-same-open", grant(dev, own, 0, 0), EBUSY);
    /* it cannot be made to outlive an exec: out of the bounding set, so neither
     * inheritable nor ambient */
    check("grant-out-of-bounding-set", in_bset() == 0, "PR_CAPBSET_READ %d", in_bset());
    expect_errno("grant-not-inheritable", make_inheritable(), EPERM);
    int dev3 = open(CRCTL_DEVICE, O_RDWR);
    expect_errno("grant-while-holding-one-other-open", grant(dev3, own, 0, 0), EPERM);
    close(dev3);
    expect_errno("grant-not-ambient",
                 prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_CHECKPOINT_RESTORE, 0, 0) < 0 ? errno : 0,
                 EPERM);
    int r = fork_with_pid(want);
    check("user-exact-pid-with-grant", r == 0, "clone3 set_tid=%d: %s", want, r ? strerror(r) : "ok");
    expect_errno("user-taken-pid-with-grant", fork_with_pid(1), EEXIST);

    /* an exec drops it: not inheritable, not ambient */
    pid_t c = fork();
    if (c == 0) {
        execl("/proc/self/exe", "crctl_test", "capcheck", (char *)NULL);
        _exit(99);
    }
    int st;
    waitpid(c, &st, 0);
    check("grant-dropped-by-exec", WIFEXITED(st) && WEXITSTATUS(st) == 0, "child after exec: status %#x",
          st);

    /* END only from the thread that was granted */
    c = fork();
    if (c == 0)
        _exit(xioctl(dev, CRCTL_RESTORE_END, NULL));
    waitpid(c, &st, 0);
    expect_errno("end-from-other-task", WIFEXITED(st) ? WEXITSTATUS(st) : -1, EPERM);
    expect_errno("end-with-argument", xioctl(dev, CRCTL_RESTORE_END, (void *)1), EINVAL);
    expect_errno("end", xioctl(dev, CRCTL_RESTORE_END, NULL), 0);
    check("end-removes-cap", restore_cap() == 0, "cap sets %d", restore_cap());
    check("end-restores-bounding-set", in_bset() == 1, "PR_CAPBSET_READ %d", in_bset());
    expect_errno("user-set_tid-refused-after-end", fork_with_pid(free_pid()), EPERM);
    expect_errno("end-twice", xioctl(dev, CRCTL_RESTORE_END, NULL), EINVAL);
    expect_errno("grant-after-end-same-open", grant(dev, own, 0, 0), EBUSY);

    /* a new open is a new grant */
    int dev2 = open(CRCTL_DEVICE, O_RDWR);
    expect_errno("grant-new-open", grant(dev2, own, 0, 0), 0);
    expect_errno("end-new-open", xioctl(dev2, CRCTL_RESTORE_END, NULL), 0);
    close(dev2);
    close(dev);
}

static int set_param_of(const char *name, const char *v)
{
    char path[128];
    snprintf(path, sizeof path, "/sys/module/crctl/parameters/%s", name);
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        return -1;
    int r = write(fd, v, strlen(v)) == (ssize_t)strlen(v) ? 0 : -1;
    close(fd);
    return r;
}

static int set_param(const char *v)
{
    return set_param_of("allow_restore_grant", v);
}

/* uid 1000 asks for a grant with its image (or supplementary group `group` when >= 0):
 * 0 or the errno */
static int user_grant(const char *image_path, int group)
{
    pid_t c = fork();
    if (c == 0) {
        gid_t g = (gid_t)group;
        if (setgroups(group >= 0 ? 1 : 0, &g) || setresgid(USER_UID, USER_UID, USER_UID) ||
            setresuid(USER_UID, USER_UID, USER_UID))
            _exit(98);
        int d = open(CRCTL_DEVICE, O_RDWR), f = open(image_path, O_RDONLY);
        _exit(grant(d, f, 0, 0));
    }
    int s;
    waitpid(c, &s, 0);
    return WIFEXITED(s) ? WEXITSTATUS(s) : -1;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "capcheck"))
        return restore_cap() == 0 ? 0 : 1;
    if (argc > 2 && !strcmp(argv[1], "tracee"))
        return tracee(atoi(argv[2]));

    struct stat st = { 0 };
    check("device-node", stat(CRCTL_DEVICE, &st) == 0 && S_ISCHR(st.st_mode) &&
                             (st.st_mode & 0777) == 0666,
          "mode %o", (unsigned)st.st_mode);
    int dev = open(CRCTL_DEVICE, O_RDWR);
    check("open", dev >= 0, "%s", dev < 0 ? strerror(errno) : "");
    if (dev < 0)
        goto out;

    struct crctl_version v;
    memset(&v, 0xff, sizeof v);
    int r = xioctl(dev, CRCTL_VERSION, &v);
    check("version", r == 0 && v.abi == CRCTL_ABI && v.size == sizeof v &&
                         v.features == (CRCTL_F_RESTORE_GRANT | CRCTL_F_TASK_INFO |
                                        CRCTL_F_LAST_ERROR | CRCTL_F_GRANT_PIDS) &&
                         !strcmp(v.module_version, "0.1") &&
                         zeroed(v.module_version + 4, sizeof v.module_version - 4),
          "rc %d abi %u size %u features %#llx version %.32s", r, v.abi, v.size,
          (unsigned long long)v.features, v.module_version);
    expect_errno("version-bad-pointer", xioctl(dev, CRCTL_VERSION, NULL), EFAULT);
    expect_errno("unknown-ioctl", xioctl(dev, _IO(CRCTL_IOC_TYPE, 99), NULL), ENOTTY);
    expect_said("unknown-ioctl-says-why", dev, "unknown ioctl");
    expect_errno("last-error-bad-pointer", xioctl(dev, CRCTL_LAST_ERROR, (void *)8), EFAULT);
    expect_errno("other-type-ioctl", xioctl(dev, _IOR('T', 1, int), &r), ENOTTY);
    task_info_checks(dev, "root");

    /* root already holds the capability: the grant leaves it, END does not take it */
    make_file("/tmp/root.img", image, 0644);
    int rimg = open("/tmp/root.img", O_RDONLY);
    expect_errno("root-grant", grant(dev, rimg, 0, 0), 0);
    expect_errno("root-end", xioctl(dev, CRCTL_RESTORE_END, NULL), 0);
    check("root-keeps-its-cap", (restore_cap() == 3 || restore_cap() == 7) && in_bset() == 1,
          "cap sets %d, bounding %d", restore_cap(), in_bset());
    close(rimg);

    /* the admin's switch */
    mkdir("/tmp/u", 0700);
    chown("/tmp/u", USER_UID, USER_UID);
    if (set_param("0") == 0) {
        memset(&v, 0, sizeof v);
        xioctl(dev, CRCTL_VERSION, &v);
        check("param-off-features", v.features == (CRCTL_F_TASK_INFO | CRCTL_F_LAST_ERROR), "features %#llx", (unsigned long long)v.features);
        make_file("/tmp/u/off.img", image, 0600);
        chown("/tmp/u/off.img", USER_UID, USER_UID);
        expect_errno("param-off-grant-refused", user_grant("/tmp/u/off.img", -1), EPERM);
        set_param("1");
        /* the grant for one group's members */
        if (set_param_of("restore_grant_gid", "4242") == 0) {
            expect_errno("param-gid-other-refused", user_grant("/tmp/u/off.img", -1), EPERM);
            expect_errno("param-gid-member-granted", user_grant("/tmp/u/off.img", 4242), 0);
            set_param_of("restore_grant_gid", "-1");
        } else {
            check("param-gid", 0, "cannot write restore_grant_gid: %s", strerror(errno));
        }
    } else {
        check("param-off", 0, "cannot write the module parameter: %s", strerror(errno));
    }

    /* a setuid-style caller (saved uid differs) is refused */
    pid_t c = fork();
    if (c == 0) {
        if (setgroups(0, NULL) || setresgid(USER_UID, USER_UID, USER_UID) ||
            setresuid(USER_UID, USER_UID, 0))
            _exit(98);
        int d = open(CRCTL_DEVICE, O_RDWR), f = open("/tmp/u/off.img", O_RDONLY);
        _exit(grant(d, f, 0, 0));
    }
    int s;
    waitpid(c, &s, 0);
    expect_errno("grant-unsettled-creds", WIFEXITED(s) ? WEXITSTATUS(s) : -1, EPERM);

    /* the normal user */
    c = fork();
    if (c == 0) {
        if (setgroups(0, NULL) || setresgid(USER_UID, USER_UID, USER_UID) ||
            setresuid(USER_UID, USER_UID, USER_UID)) {
            check("become-user", 0, "%s", strerror(errno));
            _exit(1);
        }
        umask(022);
        prctl(PR_SET_DUMPABLE, 1, 0, 0, 0); /* setuid made us non-dumpable; a user's own
                                                process is dumpable */
        as_user();
        printf("KMOD-COUNTS: %d %d\n", passed, failed);
        fflush(stdout);
        _exit(0);
    }
    fflush(stdout);
    waitpid(c, &s, 0);
    check("user-part-ran", WIFEXITED(s) && WEXITSTATUS(s) == 0, "status %#x", s);
    close(dev);
out:
    printf("KMOD-SUMMARY: root side %d passed, %d failed (the user side printed KMOD-COUNTS)\n", passed, failed);
    return failed ? 1 : 0;
}
