/* A region advised MADV_DONTFORK (VmFlags dc), with data: a child forked afterwards does not have it. */
#include "conf.h"
#include <sys/mman.h>

#define LEN (4 << 20)

int main(void)
{
    char *m = mmap(NULL, 2 * LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cf_check(m != MAP_FAILED, "mmap: %s", strerror(errno));
    m = (char *)(((uintptr_t)m + LEN - 1) & ~(uintptr_t)(LEN - 1)); /* 2 MiB aligned, inside */
    memset(m, 0x5a, LEN);
    cf_sys(madvise(m, LEN, MADV_DONTFORK));
    cf_check(cf_has_vmflag(m, "dc"), "setup: no VmFlag dc after madvise MADV_DONTFORK (VmFlags:%s)", cf_vmflags(m));
    cf_ready();
    cf_wait();
    cf_check(cf_has_vmflag(m, "dc"), "VmFlags: expected dc (MADV_DONTFORK), got:%s", cf_vmflags(m));
    for (size_t i = 0; i < LEN; i += 4096)
        cf_check(m[i] == 0x5a, "data at +%zu: expected 0x5a, got 0x%02x", i, (unsigned char)m[i]);
    pid_t c = fork();
    cf_sys(c);
    if (c == 0)
        _exit(m[0] == 0x5a ? 0 : 1); /* faults: not in the child */
    int st = cf_waitpid(c, 10, "the child");
    cf_check(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "a child touching the region: expected SIGSEGV, got status 0x%x", st);
    cf_pass();
}
