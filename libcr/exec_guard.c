/* exec and the quiesce signal.
 *
 * A signal sent to a thread stays pending across execve, while its handler does not
 * survive: a quiesce signal that reaches a thread just as it calls execve kills the
 * new program ("Real-time signal 28") before its own runtime is up.  So a thread that
 * starts another program says so first (cr_signal_quiet_begin), and a checkpoint that
 * is stopping the threads sends no signal while one does; a thread that finds a
 * checkpoint under way lets it take it first.
 *
 * The exec family is interposed whole, since glibc's execv, execvp and the rest call
 * the kernel without going through execve.  A vfork child (posix_spawn, vfork) shares
 * our memory but is another process, which no checkpoint of ours signals: it is let
 * through untouched. */
#define _GNU_SOURCE
#include "runtime.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <unistd.h>

#define API __attribute__((visibility("default")))

extern char **environ;

static void *next(const char *name)
{
    void *f = dlsym(RTLD_NEXT, name);
    if (!f) { /* loaded by libcr.so (-lcr), after libc: nothing comes next */
        void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
        f = libc ? dlsym(libc, name) : NULL;
    }
    return f;
}

#define GUARDED(type, name, params, args)                                      \
    API int name params                                                          \
    {                                                                            \
        static type real;                                                        \
        if (!real)                                                               \
            real = (type)next(#name);                                            \
        if (!real) {                                                             \
            errno = ENOSYS;                                                      \
            return -1;                                                           \
        }                                                                        \
        int counted = cr_signal_quiet_begin();                                              \
        int r = real args;                                                       \
        int e = errno;                                                           \
        cr_signal_quiet_end(counted);                                                       \
        errno = e;                                                               \
        return r;                                                                \
    }

typedef int (*execve_fn)(const char *, char *const[], char *const[]);
typedef int (*execv_fn)(const char *, char *const[]);
typedef int (*fexecve_fn)(int, char *const[], char *const[]);
typedef int (*execveat_fn)(int, const char *, char *const[], char *const[], int);

GUARDED(execve_fn, execve, (const char *path, char *const argv[], char *const envp[]), (path, argv, envp))
GUARDED(execv_fn, execv, (const char *path, char *const argv[]), (path, argv))
GUARDED(execv_fn, execvp, (const char *file, char *const argv[]), (file, argv))
GUARDED(execve_fn, execvpe, (const char *file, char *const argv[], char *const envp[]), (file, argv, envp))
GUARDED(fexecve_fn, fexecve, (int fd, char *const argv[], char *const envp[]), (fd, argv, envp))
GUARDED(execveat_fn, execveat, (int dirfd, const char *path, char *const argv[], char *const envp[], int flags),
        (dirfd, path, argv, envp, flags))

/* execl, execlp, execle: exec_list.c, through the guarded calls above. */
