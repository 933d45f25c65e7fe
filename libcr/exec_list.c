/* execl, execlp and execle as the arguments in an array, then execve or execvp: in the
 * runtime (libcr_run.so) those are exec_guard.c's, guarded against the quiesce signal;
 * in libcr.so, interpose.c's, which hand the call to the runtime.  One copy for both
 * libraries: each resolves execve and execvp to its own. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <unistd.h>

#define API __attribute__((visibility("default")))

extern char **environ;

static size_t count_args(va_list ap)
{
    size_t n = 1;
    va_list c;
    va_copy(c, ap);
    while (va_arg(c, const char *))
        n++;
    va_end(c);
    return n;
}

#define COLLECT(argv, arg0, ap, n)                                             \
    const char *argv[n + 1];                                                     \
    argv[0] = arg0;                                                              \
    for (size_t i_ = 1; i_ <= n; i_++)                                           \
        argv[i_] = i_ < n ? va_arg(ap, const char *) : NULL

API int execl(const char *path, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    size_t n = count_args(ap);
    COLLECT(argv, arg, ap, n);
    va_end(ap);
    return execve(path, (char *const *)argv, environ);
}

API int execlp(const char *file, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    size_t n = count_args(ap);
    COLLECT(argv, arg, ap, n);
    va_end(ap);
    return execvp(file, (char *const *)argv);
}

API int execle(const char *path, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    size_t n = count_args(ap);
    COLLECT(argv, arg, ap, n);
    (void)va_arg(ap, const char *); /* the NULL that ends the arguments */
    char *const *envp = va_arg(ap, char *const *);
    va_end(ap);
    return execve(path, (char *const *)argv, envp);
}
