/* What every context file's header says about the machine that wrote it; shared by
 * the runtime (one process's image) and the requester (a tree's header). */
#define _GNU_SOURCE
#include "context_header.h"

#include <gnu/libc-version.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

void ctx_header_init(struct ctx_header *h)
{
    memset(h, 0, sizeof *h);
    memcpy(h->magic, CTX_MAGIC, CTX_MAGIC_LEN);
    h->version = CTX_VERSION;
    h->header_size = sizeof *h;
    h->arch = CTX_ARCH_X86_64;
    h->page_size = (uint32_t)sysconf(_SC_PAGESIZE);
    struct utsname u;
    uname(&u);
    strncpy(h->kernel_release, u.release, sizeof h->kernel_release - 1);
    strncpy(h->glibc_version, gnu_get_libc_version(), sizeof h->glibc_version - 1);
    struct timespec ts;
    /* by system call: the program may have unmapped its vdso (vdso_unmapped) */
    syscall(SYS_clock_gettime, CLOCK_REALTIME, &ts);
    h->created_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}
