/* eio_seccomp pread64|pwrite64 FROM TO COMMAND [ARGS...]: runs COMMAND (and everything
 * it starts) with every pread64() (or pwrite64()) at a file offset in [FROM, TO)
 * failing with EIO, as a failing disk would: a seccomp filter (no privilege needed)
 * reaches the raw system calls a preload cannot, those of the restorer that fills a
 * restarted process's memory and of the compressed image writer (tests/engine/eio.sh).
 * Offsets below 4 GiB. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ARG3_LO offsetof(struct seccomp_data, args[3])
#define ARG3_HI (offsetof(struct seccomp_data, args[3]) + 4)

int main(int argc, char **argv)
{
    if (argc < 5 || (strcmp(argv[1], "pread64") && strcmp(argv[1], "pwrite64"))) {
        fprintf(stderr, "usage: eio_seccomp pread64|pwrite64 FROM TO COMMAND [ARGS...]\n");
        return 2;
    }
    unsigned nr = strcmp(argv[1], "pread64") ? __NR_pwrite64 : __NR_pread64;
    unsigned long from = strtoul(argv[2], NULL, 0), to = strtoul(argv[3], NULL, 0);
    if (from >= to || to > 0xffffffffUL) {
        fprintf(stderr, "eio_seccomp: want FROM < TO < 4 GiB\n");
        return 2;
    }
    struct sock_filter f[] = {
        /* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        /* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 8),
        /* 2 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        /* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 6),
        /* 4 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG3_HI),
        /* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 4),
        /* 6 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG3_LO),
        /* 7 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, (unsigned)from, 0, 2),
        /* 8 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, (unsigned)to, 1, 0),
        /* 9 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EIO),
        /* 10 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = { sizeof f / sizeof *f, f };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) {
        perror("eio_seccomp: seccomp");
        return 1;
    }
    execvp(argv[4], argv + 4);
    perror("eio_seccomp: exec");
    return 127;
}
