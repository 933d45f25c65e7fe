/* A TCP port held by TIME_WAIT entries alone, ended at restart.  A listener of the
 * checkpointed program is bound again at its port; a connection the program accepted
 * on it and closed first itself (Open MPI's btl/tcp drops one of two connections two
 * ranks made to each other at once) left a TIME_WAIT entry with that local port, which
 * keeps a bind there failing for up to a minute (TCP_TIMEWAIT_LEN, fixed in the kernel)
 * unless the listener had SO_REUSEADDR.  Such an entry is ended the way the kernel ends
 * one for a new connection on the same addresses: a SYN from its remote end (bound here
 * with SO_REUSEADDR, so only when that end is an address of this host), which the entry
 * gives up for (or answers with an ACK, which our reset ends it with: tcp_rfc1337 0, the
 * default); no listener is there, so the connect is refused and nothing stays.  The
 * program never sees those connections again, which it had closed. */
#define _GNU_SOURCE
#include "resources.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* /proc/net/tcp's "ADDR:PORT" (each address word as the kernel's memory holds it) */
static int proc_sockaddr(const char *hex, int v6, struct sockaddr_storage *ss, socklen_t *len)
{
    unsigned w[4] = { 0 }, port = 0;
    int n = v6 ? sscanf(hex, "%8x%8x%8x%8x:%x", &w[0], &w[1], &w[2], &w[3], &port)
               : sscanf(hex, "%8x:%x", &w[0], &port);
    if (n != (v6 ? 5 : 2) || port > 65535)
        return -1;
    memset(ss, 0, sizeof *ss);
    if (v6) {
        struct sockaddr_in6 *s = (void *)ss;
        s->sin6_family = AF_INET6;
        s->sin6_port = htons((uint16_t)port);
        memcpy(&s->sin6_addr, w, sizeof s->sin6_addr);
        *len = sizeof *s;
    } else {
        struct sockaddr_in *s = (void *)ss;
        s->sin_family = AF_INET;
        s->sin_port = htons((uint16_t)port);
        memcpy(&s->sin_addr, w, sizeof s->sin_addr);
        *len = sizeof *s;
    }
    return 0;
}

/* a SYN from remote to local, answered (refused) within 2 s: the kernel retries a SYN
 * the entry answered with an ACK after 1 s, and by then the entry is gone.  What
 * stopped it, as text (the remote end's address taken by another socket, a connect
 * the kernel refuses on the entry's own addresses), or "" */
static void syn_from(const struct sockaddr_storage *remote, socklen_t rlen,
                     const struct sockaddr_storage *local, socklen_t llen, char *why, size_t len)
{
    why[0] = 0;
    int s = socket(remote->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_TCP);
    if (s < 0) {
        snprintf(why, len, "socket: %s", strerror(errno));
        return;
    }
    int one = 1;
    struct linger reset = { 1, 0 }; /* (a listener there after all: no TIME_WAIT of ours) */
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(s, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    if (bind(s, (const struct sockaddr *)remote, rlen) < 0)
        snprintf(why, len, "its remote end cannot be bound: %s", strerror(errno));
    else if (connect(s, (const struct sockaddr *)local, llen) == 0 || errno == EINPROGRESS) {
        struct pollfd p = { s, POLLOUT, 0 };
        poll(&p, 1, 2000);
    } else {
        snprintf(why, len, "no SYN from its remote end: %s", strerror(errno));
    }
    close(s);
}

int tcp_end_time_waits(unsigned port, char *report, size_t len)
{
    int tried = 0;
    size_t at = 0;
    if (len)
        report[0] = 0;
    for (int v6 = 0; v6 < 2; v6++) {
        FILE *t = fopen(v6 ? "/proc/net/tcp6" : "/proc/net/tcp", "re");
        char line[512], local[64], remote[64], why[160];
        unsigned st;
        while (t && fgets(line, sizeof line, t)) {
            struct sockaddr_storage l, r;
            socklen_t llen, rlen;
            if (sscanf(line, " %*u: %63s %63s %x", local, remote, &st) != 3 || st != 6 /* TCP_TIME_WAIT */ ||
                proc_sockaddr(local, v6, &l, &llen) < 0 || proc_sockaddr(remote, v6, &r, &rlen) < 0 ||
                ntohs(v6 ? ((struct sockaddr_in6 *)&l)->sin6_port : ((struct sockaddr_in *)&l)->sin_port) != port)
                continue;
            syn_from(&r, rlen, &l, llen, why, sizeof why);
            tried++;
            if (why[0] && at + 1 < len) {
                at += (size_t)snprintf(report + at, len - at, "%s%s %s -> %s: %s", at ? "; " : "",
                                       v6 ? "tcp6" : "tcp", local, remote, why);
                if (at >= len)
                    at = len - 1;
            }
        }
        if (t)
            fclose(t);
    }
    return tried;
}
