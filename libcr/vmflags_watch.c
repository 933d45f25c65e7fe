/* The program's calls that change a region's VmFlags without changing its line in
 * /proc/self/maps (madvise's advice, mlock and munlock), counted: a pre-copy
 * (precopy.c) read the VmFlags before the freeze and takes them as they are at the
 * stop only when /proc/self/maps and this count are unchanged since (else it reads
 * smaps frozen, as before).  Each call goes straight to the kernel, as glibc's does.
 * Calls made without libc (syscall(), a static program) are not seen: see precopy.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "precopy.h"

#define API __attribute__((visibility("default"))) /* (the runtime hides the rest) */

uint64_t cr_vmflags_changes;

/* counted before and after: a call under way at the freeze is seen either way */
#define COUNTED(call)                                                         \
    do {                                                                      \
        __atomic_add_fetch(&cr_vmflags_changes, 1, __ATOMIC_SEQ_CST);         \
        long r_ = (call);                                                     \
        __atomic_add_fetch(&cr_vmflags_changes, 1, __ATOMIC_SEQ_CST);         \
        return (int)r_;                                                       \
    } while (0)

API int madvise(void *addr, size_t len, int advice)
{
    COUNTED(syscall(SYS_madvise, addr, len, advice));
}

API int posix_madvise(void *addr, size_t len, int advice)
{
    __atomic_add_fetch(&cr_vmflags_changes, 1, __ATOMIC_SEQ_CST);
    /* POSIX_MADV_DONTNEED does nothing in glibc (it would drop data) */
    long r = advice == POSIX_MADV_DONTNEED ? 0 : syscall(SYS_madvise, addr, len, advice);
    int e = r < 0 ? errno : 0;
    __atomic_add_fetch(&cr_vmflags_changes, 1, __ATOMIC_SEQ_CST);
    return e; /* (an errno value, not -1) */
}

API int mlock(const void *addr, size_t len)
{
    COUNTED(syscall(SYS_mlock, addr, len));
}

API int mlock2(const void *addr, size_t len, unsigned int flags)
{
    COUNTED(syscall(SYS_mlock2, addr, len, flags));
}

API int munlock(const void *addr, size_t len)
{
    COUNTED(syscall(SYS_munlock, addr, len));
}

API int mlockall(int flags)
{
    COUNTED(syscall(SYS_mlockall, flags));
}

API int munlockall(void)
{
    COUNTED(syscall(SYS_munlockall));
}
