/* A classic BPF filter attached to a UDP socket (SO_ATTACH_FILTER: only datagrams whose
 * first byte is 'A'), and a filter locked on another (SO_LOCK_FILTER); a unix datagram
 * pair whose receiving end got its filter after a datagram the filter rejects was
 * queued.  Afterwards SO_GET_FILTER gives back the same programs, a datagram a filter
 * rejects is dropped and one it accepts arrives, the locked one still refuses to lose
 * its filter, and the datagram queued before its filter is still there. */
#include "conf.h"
#include <linux/filter.h>
#include <netinet/in.h>

static struct sock_filter prog[] = {
    BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 8),  /* the first byte after the UDP header */
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 'A', 0, 1),
    BPF_STMT(BPF_RET | BPF_K, 0xffff),
    BPF_STMT(BPF_RET | BPF_K, 0),
};
#define NPROG (sizeof prog / sizeof prog[0])

static struct sock_filter uprog[] = { /* a unix socket's data starts at offset 0 */
    BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 'A', 0, 1),
    BPF_STMT(BPF_RET | BPF_K, 0xffff),
    BPF_STMT(BPF_RET | BPF_K, 0),
};

static void same_filter(int s, const char *which)
{
    struct sock_filter got[16];
    socklen_t n = 16;
    cf_check(getsockopt(s, SOL_SOCKET, SO_GET_FILTER, got, &n) == 0, "%s: SO_GET_FILTER: %s", which,
             strerror(errno));
    cf_check(n == NPROG, "%s: a filter of %u instructions, expected %zu", which, (unsigned)n, NPROG);
    cf_check(memcmp(got, prog, sizeof prog) == 0, "%s: the filter's instructions differ", which);
}

int main(void)
{
    struct sockaddr_storage a, b;
    int s = socket(AF_INET, SOCK_DGRAM, 0), c = socket(AF_INET, SOCK_DGRAM, 0),
        l = socket(AF_INET, SOCK_DGRAM, 0);
    cf_sys(s);
    cf_sys(c);
    cf_sys(l);
    struct sock_fprog fp = { .len = NPROG, .filter = prog };
    cf_sys(setsockopt(s, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof fp));
    cf_sys(setsockopt(l, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof fp));
    int one = 1;
    cf_sys(setsockopt(l, SOL_SOCKET, SO_LOCK_FILTER, &one, sizeof one));
    int u[2];
    cf_sys(socketpair(AF_UNIX, SOCK_DGRAM, 0, u));
    cf_check(send(u[0], "Bee", 3, 0) == 3, "send on the pair: %s", strerror(errno));
    struct sock_fprog ufp = { .len = sizeof uprog / sizeof uprog[0], .filter = uprog };
    cf_sys(setsockopt(u[1], SOL_SOCKET, SO_ATTACH_FILTER, &ufp, sizeof ufp));
    socklen_t alen = cf_loopback(AF_INET, 0, &a);
    cf_sys(bind(s, (void *)&a, alen));
    alen = sizeof a;
    cf_sys(getsockname(s, (void *)&a, &alen));
    cf_sys(connect(c, (void *)&a, alen));
    socklen_t blen = sizeof b;
    cf_sys(getsockname(c, (void *)&b, &blen));
    cf_ready();
    cf_wait();
    same_filter(s, "the filtered socket");
    same_filter(l, "the locked socket");
    int locked = 0;
    socklen_t ll = sizeof locked;
    cf_sys(getsockopt(l, SOL_SOCKET, SO_LOCK_FILTER, &locked, &ll));
    cf_check(locked == 1, "SO_LOCK_FILTER: expected 1, got %d", locked);
    cf_check(setsockopt(l, SOL_SOCKET, SO_DETACH_FILTER, &one, sizeof one) < 0 && errno == EPERM,
             "the locked filter could be detached (%s)", strerror(errno));
    ll = sizeof locked;
    cf_sys(getsockopt(c, SOL_SOCKET, SO_LOCK_FILTER, &locked, &ll));
    cf_check(locked == 0, "the unfiltered socket's SO_LOCK_FILTER: expected 0, got %d", locked);
    socklen_t n = 0;
    cf_check(getsockopt(c, SOL_SOCKET, SO_GET_FILTER, NULL, &n) == 0 && n == 0,
             "the unfiltered socket has a filter of %u instructions", (unsigned)n);
    /* the filter is the kernel's: what it rejects never arrives, what it accepts does */
    cf_check(send(c, "Bad", 3, 0) == 3, "send: %s", strerror(errno));
    cf_check(send(c, "Ace", 3, 0) == 3, "send: %s", strerror(errno));
    cf_check(cf_readable(s, 5), "no datagram arrived");
    char buf[8] = "";
    cf_check(recv(s, buf, sizeof buf, 0) == 3 && memcmp(buf, "Ace", 3) == 0,
             "the first datagram received is '%s', expected 'Ace' (the filter drops 'Bad')", buf);
    cf_check(cf_readable(u[1], 5), "the datagram queued before the filter is gone");
    cf_check(recv(u[1], buf, sizeof buf, 0) == 3 && memcmp(buf, "Bee", 3) == 0,
             "the pair's first datagram is '%s', expected 'Bee' (queued before its filter)", buf);
    cf_check(send(u[0], "Bad", 3, 0) == 3 && send(u[0], "Ant", 3, 0) == 3, "send on the pair: %s",
             strerror(errno));
    cf_check(cf_readable(u[1], 5), "nothing arrived on the pair");
    cf_check(recv(u[1], buf, sizeof buf, 0) == 3 && memcmp(buf, "Ant", 3) == 0,
             "the pair's next datagram is '%s', expected 'Ant' (its filter drops 'Bad')", buf);
    cf_pass();
}
