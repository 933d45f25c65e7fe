/* A seccomp filter (with no_new_privs) that makes getppid() fail with EPERM, the
 * process's and its thread's: after the restart getppid() still fails so, and
 * /proc says the process is filtered. */
#include "conf.h"
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>

int main(void)
{
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = { sizeof code / sizeof *code, code };
    cf_sys(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
    cf_sys(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog));
    cf_check(syscall(SYS_getppid) < 0 && errno == EPERM, "the filter does not work before the checkpoint");
    cf_ready();
    cf_wait();
    cf_check(prctl(PR_GET_SECCOMP) == SECCOMP_MODE_FILTER, "PR_GET_SECCOMP: expected filter mode, got %d",
             prctl(PR_GET_SECCOMP));
    errno = 0;
    long r = syscall(SYS_getppid);
    cf_check(r < 0 && errno == EPERM, "getppid() is allowed again: the filter was lost (got %ld)", r);
    cf_pass();
}
