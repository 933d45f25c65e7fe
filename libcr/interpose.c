/* libcr.so's copies of the calls the runtime takes over (the quiesce signal's
 * sigaction and masks, the runtime's own fds, exec, sockets, syscall() for Linux AIO).
 *
 * Under cr_run the runtime (libcr_run.so) is preloaded and comes before libc in the
 * symbol search.  A BLCR program linked with -lcr and run without cr_run loads it as
 * libcr.so's dependency, which comes after libc: the program's sigaction() would be
 * libc's, its handler for CR_SIGNUM would run at every checkpoint and the checkpoint
 * would never stop it; an exec would race the quiesce signal.  libcr.so itself comes
 * before libc, so it defines each of them and hands the call to the runtime's. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/socket.h>
#include <unistd.h>

#define API __attribute__((visibility("default")))

extern char **environ;

/* name as the runtime defines it (searched in libcr_run.so first) */
static void *runtime_sym(const char *name)
{
    static void *rt;
    if (!rt)
        rt = dlopen("libcr_run.so", RTLD_NOW | RTLD_NOLOAD);
    return rt ? dlsym(rt, name) : NULL;
}

#define FORWARD(ret, fail, name, params, args)                                 \
    API ret name params                                                        \
    {                                                                          \
        static ret(*fn_) params;                                               \
        if (!fn_)                                                              \
            fn_ = (ret(*) params)runtime_sym(#name);                           \
        if (!fn_) {                                                            \
            errno = ENOSYS;                                                    \
            return fail;                                                       \
        }                                                                      \
        return fn_ args;                                                       \
    }

FORWARD(int, -1, sigaction, (int sig, const struct sigaction *act, struct sigaction *old), (sig, act, old))
FORWARD(__sighandler_t, SIG_ERR, signal, (int sig, __sighandler_t h), (sig, h))
FORWARD(__sighandler_t, SIG_ERR, bsd_signal, (int sig, __sighandler_t h), (sig, h))
FORWARD(int, -1, sigprocmask, (int how, const sigset_t *set, sigset_t *old), (how, set, old))
FORWARD(int, EINVAL, pthread_sigmask, (int how, const sigset_t *set, sigset_t *old), (how, set, old))
FORWARD(int, -1, close, (int fd), (fd))
FORWARD(int, -1, close_range, (unsigned first, unsigned last, int flags), (first, last, flags))
FORWARD(int, -1, dup2, (int fd, int to), (fd, to))
FORWARD(int, -1, dup3, (int fd, int to, int flags), (fd, to, flags))
FORWARD(int, -1, socket, (int domain, int type, int protocol), (domain, type, protocol))
FORWARD(int, -1, accept, (int fd, struct sockaddr *a, socklen_t *l), (fd, a, l))
FORWARD(int, -1, accept4, (int fd, struct sockaddr *a, socklen_t *l, int flags), (fd, a, l, flags))
FORWARD(int, -1, execve, (const char *p, char *const a[], char *const e[]), (p, a, e))
FORWARD(int, -1, execv, (const char *p, char *const a[]), (p, a))
FORWARD(int, -1, execvp, (const char *p, char *const a[]), (p, a))
FORWARD(int, -1, execvpe, (const char *p, char *const a[], char *const e[]), (p, a, e))
FORWARD(int, -1, fexecve, (int fd, char *const a[], char *const e[]), (fd, a, e))
FORWARD(int, -1, execveat, (int d, const char *p, char *const a[], char *const e[], int f), (d, p, a, e, f))

/* syscall(): the runtime follows the Linux AIO contexts made through it (aio.c) */
API long syscall(long n, ...)
{
    static long (*f)(long, ...);
    va_list ap;
    long a[6];
    va_start(ap, n);
    for (int i = 0; i < 6; i++)
        a[i] = va_arg(ap, long);
    va_end(ap);
    if (!f)
        f = (long (*)(long, ...))runtime_sym("syscall");
    if (!f) {
        errno = ENOSYS;
        return -1;
    }
    return f(n, a[0], a[1], a[2], a[3], a[4], a[5]);
}

API void closefrom(int first)
{
    static void (*f)(int);
    if (!f)
        f = (void (*)(int))runtime_sym("closefrom");
    if (f)
        f(first);
}

/* execl, execlp, execle: exec_list.c, through the forwarded calls above. */
