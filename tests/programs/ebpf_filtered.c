/* A UDP socket with an eBPF program attached (SO_ATTACH_BPF: drops every datagram),
 * which the kernel cannot give back: READY, then on SIGUSR2 checks that the program is
 * still attached (a datagram sent to the socket never arrives) and says PASS.  Loading
 * the program needs CAP_BPF (or unprivileged BPF): without it, NOBPF and exit 77. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
    struct bpf_insn prog[] = {
        { .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 }, /* r0 = 0: drop */
        { .code = BPF_JMP | BPF_EXIT },
    };
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
    attr.insns = (uint64_t)(uintptr_t)prog;
    attr.insn_cnt = 2;
    attr.license = (uint64_t)(uintptr_t)"GPL";
    int pfd = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
    if (pfd < 0) {
        printf("NOBPF %s\n", strerror(errno));
        return 77;
    }
    int s = socket(AF_INET, SOCK_DGRAM, 0), c = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof a;
    if (s < 0 || c < 0 || setsockopt(s, SOL_SOCKET, SO_ATTACH_BPF, &pfd, sizeof pfd) < 0 ||
        bind(s, (struct sockaddr *)&a, sizeof a) < 0 || getsockname(s, (struct sockaddr *)&a, &alen) < 0) {
        printf("FAIL: setting up: %s\n", strerror(errno));
        return 1;
    }
    close(pfd);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, NULL);
    printf("READY\n");
    fflush(stdout);
    int sig;
    sigwait(&set, &sig);
    if (sendto(c, "x", 1, 0, (struct sockaddr *)&a, alen) != 1) {
        printf("FAIL: sendto: %s\n", strerror(errno));
        return 1;
    }
    struct pollfd p = { .fd = s, .events = POLLIN };
    if (poll(&p, 1, 500) != 0) {
        printf("FAIL: a datagram arrived: the eBPF filter is gone\n");
        return 1;
    }
    printf("PASS\n");
    return 0;
}
