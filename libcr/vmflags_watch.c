/* The regions' VmFlags read before the freeze (a pre-copy's, precopy.c, and a
 * copy-on-write checkpoint's, dump.c's cr_dump_prepare), taken at the stop only when
 * nothing could have changed them since: /proc/self/maps the same text, VmLck the
 * same, and none of the program's calls that change a region's VmFlags without
 * changing its line in maps (madvise's advice, mlock and munlock), counted here (else
 * smaps is read frozen, as before).  Each call goes straight to the kernel, as
 * glibc's does.  Calls made without libc (syscall(), a static program) are not seen:
 * see doc/precopy.md's known limits. */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "dump.h"
#include "precopy.h"
#include "runtime.h"

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

uint64_t cr_status_bytes(const char *field)
{
    char status[4096];
    if (cr_read_text("/proc/self/status", status, sizeof status) <= 0)
        return 0;
    const char *p = strstr(status, field);
    return p ? strtoull(p + strlen(field), NULL, 10) * 1024 : 0;
}

static void read_early(char *scratch, struct vmflags_early *e);

/* The program runs: the files read here take fd numbers it may be closing (a shell
 * closes some twice), so its closes wait until they are closed again (runtime.c). */
void cr_vmflags_read_early(char *scratch, struct vmflags_early *e)
{
    cr_fd_section_begin();
    read_early(scratch, e);
    cr_fd_section_end();
}

static void read_early(char *scratch, struct vmflags_early *e)
{
    e->nregions = 0;
    char *maps = scratch + EARLY_MAPS_OFF, *text = scratch + TEXT_OFF;
    uint64_t changes = __atomic_load_n(&cr_vmflags_changes, __ATOMIC_SEQ_CST);
    uint64_t lck = cr_status_bytes("\nVmLck:");
    ssize_t n = cr_read_text("/proc/self/maps", maps, EARLY_MAPS_SIZE);
    if (n <= 0 || (size_t)n >= EARLY_MAPS_SIZE - 1)
        return;
    struct dump *t = (struct dump *)(scratch + STATE_OFF); /* (cr_dump_begin clears it) */
    char msg[256];
    memset(t, 0, sizeof *t);
    t->scratch = scratch;
    t->msg = msg;
    t->msglen = sizeof msg;
    snprintf(t->proc_dir, sizeof t->proc_dir, "/proc/self");
    if (cr_dump_regions(t) < 0 || t->nregions == 0)
        return;
    /* maps the same after the read: no region came or went while smaps was read */
    ssize_t m = cr_read_text("/proc/self/maps", text, TEXT_SIZE);
    if (m != n || memcmp(maps, text, (size_t)n) ||
        __atomic_load_n(&cr_vmflags_changes, __ATOMIC_SEQ_CST) != changes)
        return;
    e->nregions = t->nregions;
    e->changes = changes;
    e->maps_len = (size_t)n;
    e->vm_lck = lck;
}

int cr_vmflags_take_early(struct dump *d, const struct vmflags_early *e)
{
    if (!e->nregions || __atomic_load_n(&cr_vmflags_changes, __ATOMIC_SEQ_CST) != e->changes)
        return 0;
    char *text = d->scratch + TEXT_OFF;
    ssize_t n = cr_read_text("/proc/self/maps", text, TEXT_SIZE);
    if (n != (ssize_t)e->maps_len || memcmp(text, d->scratch + EARLY_MAPS_OFF, e->maps_len) ||
        cr_status_bytes("\nVmLck:") != e->vm_lck)
        return 0;
    d->regions = (struct vm_region *)(d->scratch + VMFLAGS_OFF);
    d->nregions = e->nregions;
    return 1;
}
