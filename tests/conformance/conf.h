/* What every conformance test shares: announce READY, wait for SIGUSR2 (at most
 * CF_WAIT_SECONDS), report exactly one line, PASS or FAIL: <what differed, expected vs got>.
 *
 * A test sets its piece of state up, calls cf_ready() and cf_wait(), then checks
 * with cf_check()/cf_fail() and ends with cf_pass().  Only raw syscalls are used
 * for the clock, so that a test that unmapped its vdso can still wait. */
#ifndef CONF_H
#define CONF_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The wait for SIGUSR2 only keeps a program run.sh lost from waiting forever: run.sh
 * bounds each step between READY and SIGUSR2 in real time (the checkpoint 65 s, the
 * kill 30 s, cr_restart's hook and the restored process 120 s each: up to 335 s in the
 * ptrace mode), so this must be longer than all of them together, or a slow machine
 * (software-emulated qemu under load) fails a correct restart with "no SIGUSR2". */
#define CF_WAIT_SECONDS 600

static void cf_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn, unused));
static void cf_fail(const char *fmt, ...)
{
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++) /* one line, whatever the reason holds */
        if (*p == '\n')
            *p = ' ';
    printf("FAIL: %s\n", msg);
    fflush(stdout);
    exit(1);
}

#define cf_check(cond, ...) do { if (!(cond)) cf_fail(__VA_ARGS__); } while (0)

/* the call failed: name it with its errno */
#define cf_sys(call) do { if ((call) < 0) cf_fail("%s: %s (line %d)", #call, strerror(errno), __LINE__); } while (0)

static void __attribute__((noreturn, unused)) cf_pass(void)
{
    printf("PASS\n");
    fflush(stdout);
    exit(0);
}

/* seconds on the monotonic clock, by syscall (no vdso) */
static double __attribute__((unused)) cf_now(void)
{
    struct timespec ts;
    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void __attribute__((unused)) cf_block_usr2(void)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR2);
    if (sigprocmask(SIG_BLOCK, &s, NULL) < 0)
        cf_fail("cannot block SIGUSR2: %s", strerror(errno));
}

/* the state is set up: SIGUSR2 blocked (before anyone may send it), READY said */
static void __attribute__((unused)) cf_ready(void)
{
    cf_block_usr2();
    printf("READY\n");
    fflush(stdout);
}

/* until SIGUSR2 arrives; FAIL after CF_WAIT_SECONDS.  EINTR (the runtime's own signal, a
 * restart) only waits again for the time that is left. */
static void __attribute__((unused)) cf_wait(void)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR2);
    double end = cf_now() + CF_WAIT_SECONDS;
    for (;;) {
        double left = end - cf_now();
        if (left <= 0)
            cf_fail("no SIGUSR2 within %d s", CF_WAIT_SECONDS);
        struct timespec ts = { (time_t)left, (long)((left - (time_t)left) * 1e9) };
        int sig = sigtimedwait(&s, NULL, &ts);
        if (sig == SIGUSR2)
            return;
        if (sig < 0 && errno != EINTR && errno != EAGAIN)
            cf_fail("sigtimedwait: %s", strerror(errno));
    }
}

/* write all of buf, or fail */
static void __attribute__((unused)) cf_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            cf_fail("write to fd %d: %s", fd, n < 0 ? strerror(errno) : "wrote nothing");
        p += n;
        len -= (size_t)n;
    }
}

/* read exactly len bytes, or fail saying how many came */
static void __attribute__((unused)) cf_read_all(int fd, void *buf, size_t len, const char *what)
{
    char *p = buf;
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, p + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            cf_fail("%s: read: %s after %zu of %zu bytes", what, strerror(errno), got, len);
        if (n == 0)
            cf_fail("%s: EOF after %zu of %zu bytes", what, got, len);
        got += (size_t)n;
    }
}

/* the first line of FILE (or /proc file) starting with KEY, value part; "" if none */
static const char __attribute__((unused)) *cf_proc_field(const char *file, const char *key)
{
    static __thread char val[4096]; /* per thread: threads may read at once */
    FILE *f = fopen(file, "r");
    val[0] = 0;
    if (!f)
        return val;
    char line[4096];
    size_t k = strlen(key);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, k) == 0) {
            char *v = line + k;
            while (*v == ' ' || *v == '\t' || *v == ':')
                v++;
            v[strcspn(v, "\n")] = 0;
            snprintf(val, sizeof val, "%s", v);
            break;
        }
    }
    fclose(f);
    return val;
}

/* a simple checksum of a buffer (FNV-1a, 64 bits) */
static uint64_t __attribute__((unused)) cf_sum(const void *buf, size_t len)
{
    const unsigned char *p = buf;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

/* fill buf with bytes that depend on seed and position */
static void __attribute__((unused)) cf_fill(void *buf, size_t len, unsigned seed)
{
    unsigned char *p = buf;
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (unsigned char)x;
    }
}

/* a child that waits for the parent's death or a kill; returns its pid */
static pid_t __attribute__((unused)) cf_fork_sleeper(void)
{
    pid_t p = fork();
    if (p < 0)
        cf_fail("fork: %s", strerror(errno));
    if (p == 0) {
        for (;;)
            pause();
    }
    return p;
}

/* wait for a child with a bound; returns its wait status, FAIL on timeout */
static int __attribute__((unused)) cf_waitpid(pid_t pid, double seconds, const char *what)
{
    double end = cf_now() + seconds;
    for (;;) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return st;
        if (r < 0 && errno != EINTR)
            cf_fail("%s: waitpid %d: %s", what, (int)pid, strerror(errno));
        if (cf_now() > end) {
            kill(pid, SIGKILL);
            cf_fail("%s: child %d still running after %.0f s", what, (int)pid, seconds);
        }
        struct timespec ts = { 0, 5 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
}

/* Run fn(msg, len, arg) in a child; a message it leaves in msg is a failure,
 * reported as "what: msg".  For what only another process can see (locks). */
typedef void (*cf_child_fn)(char *msg, size_t len, void *arg);
static void __attribute__((unused)) cf_in_child(cf_child_fn fn, void *arg, const char *what)
{
    int p[2];
    if (pipe(p) < 0)
        cf_fail("%s: pipe: %s", what, strerror(errno));
    pid_t c = fork();
    if (c < 0)
        cf_fail("%s: fork: %s", what, strerror(errno));
    if (c == 0) {
        char msg[600] = "";
        close(p[0]);
        fn(msg, sizeof msg, arg);
        if (write(p[1], msg, strlen(msg)) < 0)
            _exit(3);
        _exit(0);
    }
    close(p[1]);
    char msg[600];
    size_t got = 0;
    double end = cf_now() + 20;
    for (;;) {
        struct timespec ts = { 0, 5 * 1000 * 1000 };
        ssize_t n = read(p[0], msg + got, sizeof msg - 1 - got);
        if (n > 0) {
            got += (size_t)n;
            continue;
        }
        if (n == 0 || (errno != EINTR && errno != EAGAIN) || got == sizeof msg - 1)
            break;
        if (cf_now() > end)
            break;
        nanosleep(&ts, NULL);
    }
    msg[got] = 0;
    close(p[0]);
    int st = cf_waitpid(c, 20, what);
    if (got)
        cf_fail("%s: %s", what, msg);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        cf_fail("%s: the checking child ended with status 0x%x", what, st);
}

/* ---- memory ---- */
/* the line of /proc/self/maps whose range holds addr ("" if none); its fields */
struct cf_map { unsigned long lo, hi; char perms[8]; char name[256]; };
static int __attribute__((unused)) cf_map_of(const void *addr, struct cf_map *m)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    int found = 0;
    memset(m, 0, sizeof *m);
    while (f && !found && fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char perms[8];
        int off = 0;
        if (sscanf(line, "%lx-%lx %7s %*s %*s %*s%n", &lo, &hi, perms, &off) >= 3 && lo <= (unsigned long)addr &&
            (unsigned long)addr < hi) {
            m->lo = lo;
            m->hi = hi;
            snprintf(m->perms, sizeof m->perms, "%s", perms);
            char *n = line + off;
            while (*n == ' ')
                n++;
            n[strcspn(n, "\n")] = 0;
            snprintf(m->name, sizeof m->name, "%s", n);
            found = 1;
        }
    }
    if (f)
        fclose(f);
    return found;
}

/* the VmFlags of the mapping that holds addr, from /proc/self/smaps ("" if none) */
static const char __attribute__((unused)) *cf_vmflags(const void *addr)
{
    static char flags[600];
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512];
    int in = 0;
    flags[0] = 0;
    while (f && fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' '))
            in = lo <= (unsigned long)addr && (unsigned long)addr < hi;
        else if (in && strncmp(line, "VmFlags:", 8) == 0) {
            snprintf(flags, sizeof flags, " %s", line + 9);
            flags[strcspn(flags, "\n")] = 0;
            strcat(flags, " ");
            break;
        }
    }
    if (f)
        fclose(f);
    return flags;
}

/* has the mapping of addr the VmFlags flag fl (two letters)? */
static int __attribute__((unused)) cf_has_vmflag(const void *addr, const char *fl)
{
    char k[8];
    snprintf(k, sizeof k, " %s ", fl);
    return strstr(cf_vmflags(addr), k) != NULL;
}

/* ---- sockets ---- */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

/* an int socket option, or FAIL naming it */
#define cf_getint(fd, level, opt) cf_getint_((fd), (level), (opt), #opt)
static int __attribute__((unused)) cf_getint_(int fd, int level, int opt, const char *name)
{
    int v = 0;
    socklen_t len = sizeof v;
    if (getsockopt(fd, level, opt, &v, &len) < 0)
        cf_fail("getsockopt %s on fd %d: %s", name, fd, strerror(errno));
    return v;
}

#define cf_setint(fd, level, opt, val) do { int v_ = (val); \
    if (setsockopt((fd), (level), (opt), &v_, sizeof v_) < 0) cf_fail("setsockopt %s: %s", #opt, strerror(errno)); } while (0)

/* the loopback address of FAMILY with PORT */
static socklen_t __attribute__((unused)) cf_loopback(int family, int port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        a->sin6_port = htons((uint16_t)port);
        return sizeof *a;
    }
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a->sin_port = htons((uint16_t)port);
    return sizeof *a;
}

/* "addr:port" of an inet address, or "family N" / "(unix path)" */
static const char __attribute__((unused)) *cf_addr_str(const struct sockaddr_storage *ss, socklen_t len)
{
    static char buf[4][160];
    static int k;
    char *b = buf[k++ % 4], a[INET6_ADDRSTRLEN];
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)ss;
        snprintf(b, 160, "%s:%d", inet_ntop(AF_INET, &x->sin_addr, a, sizeof a), ntohs(x->sin_port));
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *x = (const void *)ss;
        snprintf(b, 160, "[%s]:%d", inet_ntop(AF_INET6, &x->sin6_addr, a, sizeof a), ntohs(x->sin6_port));
    } else if (ss->ss_family == AF_UNIX) {
        const struct sockaddr_un *x = (const void *)ss;
        size_t n = len > offsetof(struct sockaddr_un, sun_path) ? len - offsetof(struct sockaddr_un, sun_path) : 0;
        if (n == 0)
            snprintf(b, 160, "unix, unnamed");
        else if (x->sun_path[0] == 0)
            snprintf(b, 160, "unix @%.*s", (int)n - 1, x->sun_path + 1);
        else
            snprintf(b, 160, "unix %.*s", (int)n, x->sun_path);
    } else {
        snprintf(b, 160, "family %d", ss->ss_family);
    }
    return b;
}

/* the local (peer=0) or peer address of fd as a string */
static const char __attribute__((unused)) *cf_sockname(int fd, int peer)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    memset(&ss, 0, sizeof ss);
    if ((peer ? getpeername(fd, (void *)&ss, &len) : getsockname(fd, (void *)&ss, &len)) < 0) {
        static char e[80];
        snprintf(e, sizeof e, "(%s)", strerror(errno));
        return e;
    }
    return cf_addr_str(&ss, len);
}

/* until fd is readable (at most `seconds`); 0 if it is not */
static int __attribute__((unused)) cf_readable(int fd, double seconds)
{
    double end = cf_now() + seconds;
    for (;;) {
        struct pollfd p = { fd, POLLIN, 0 };
        int left = (int)((end - cf_now()) * 1000);
        if (left < 0)
            return 0;
        int r = poll(&p, 1, left);
        if (r > 0)
            return 1;
        if (r < 0 && errno != EINTR)
            return 0;
    }
}

/* a unix address for a path (or "@name": abstract) */
static socklen_t __attribute__((unused)) cf_unix_addr(const char *name, struct sockaddr_un *a)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    if (name[0] == '@') {
        size_t n = strlen(name + 1);
        memcpy(a->sun_path + 1, name + 1, n);
        return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
    }
    snprintf(a->sun_path, sizeof a->sun_path, "%s", name);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name) + 1);
}

#endif
