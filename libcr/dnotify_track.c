/* Each directory the program watches with dnotify (fcntl F_NOTIFY): Linux has no way
 * to read a registration back (no F_GETNOTIFY, nothing in /proc), so the runtime keeps
 * the mask the program gave, per fd, for the checkpoint (resources/fown.c), which
 * saves one registered with DN_MULTISHOT (it lasts until removed; a one-shot one may
 * have fired already, which cannot be told, and is refused). */
#define _GNU_SOURCE
#include "dnotify_track.h"
#include "runtime.h"
#include "held_reads.h"
#include "pid_map.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define API __attribute__((visibility("default")))
#define MAX_WATCHED 256

static struct watched {
    int fd;                    /* -1: free */
    uint64_t dev, ino;
    uint32_t mask;
} watched[MAX_WATCHED] = { [0 ... MAX_WATCHED - 1] = { .fd = -1 } };
static int nwatched;

static int (*libc_fcntl)(int, int, ...);
static int (*libc_fcntl64)(int, int, ...);

CR_LOOKUP_CONSTRUCTOR static void find_libc_fcntl(void)
{
    libc_fcntl = (int (*)(int, int, ...))dlsym(RTLD_NEXT, "fcntl");
    libc_fcntl64 = (int (*)(int, int, ...))dlsym(RTLD_NEXT, "fcntl64");
}

static void note(int fd, unsigned long mask)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return;
    sigset_t old;
    cr_held_lock(&old);
    struct watched *w = NULL;
    for (int i = 0; i < MAX_WATCHED && !w; i++)
        if (watched[i].fd == fd)
            w = &watched[i];
    for (int i = 0; i < MAX_WATCHED && !w && mask; i++)
        if (watched[i].fd < 0)
            w = &watched[i], nwatched++;
    if (w && mask)
        *w = (struct watched){ .fd = fd, .dev = st.st_dev, .ino = st.st_ino, .mask = (uint32_t)mask };
    else if (w) {
        w->fd = -1;
        nwatched--;
    }
    cr_held_unlock(&old);
}

static int forward(int (*libc)(int, int, ...), int fd, int cmd, void *arg, const void *from)
{
    struct f_owner_ex ex; /* (the owner of its signals, as the kernel numbers it) */
    void *given = cr_pid_owner_arg(cmd, arg, &ex, from);
    int r = libc ? libc(fd, cmd, given) : (int)syscall(SYS_fcntl, fd, cmd, given);
    r = cr_pid_owner_result(cmd, r, arg, from);
    if (cmd == F_NOTIFY && r == 0)
        note(fd, (unsigned long)arg);
    if (r == 0 && arg && (cmd == F_GETLK || cmd == F_GETLK64)) /* (the holder, as the
                                                                 program knows it) */
        cr_pid_lock_holder_known(arg, from);
    return r;
}

/* (glibc too reads the third argument whatever the command) */
API int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return forward(libc_fcntl, fd, cmd, arg, __builtin_return_address(0));
}

API int fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return forward(libc_fcntl64 ? libc_fcntl64 : libc_fcntl, fd, cmd, arg, __builtin_return_address(0));
}

int cr_dnotify_of(int fd, uint64_t dev, uint64_t ino, uint32_t *mask)
{
    for (int i = 0; i < MAX_WATCHED; i++)
        if (watched[i].fd == fd && watched[i].dev == dev && watched[i].ino == ino) {
            *mask = watched[i].mask;
            return 0;
        }
    return -1;
}

void cr_dnotify_closed(int first, int last)
{
    if (!__atomic_load_n(&nwatched, __ATOMIC_ACQUIRE))
        return;
    sigset_t old;
    cr_held_lock(&old);
    for (int i = 0; i < MAX_WATCHED; i++)
        if (watched[i].fd >= first && watched[i].fd <= last) {
            watched[i].fd = -1;
            nwatched--;
        }
    cr_held_unlock(&old);
}
