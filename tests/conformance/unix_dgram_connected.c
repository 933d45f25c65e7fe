/* A unix datagram socket connected to a bound one of the process (which is not
 * connected back), with a reply queued to it: its peer stays, the reply is there, and
 * what it sends afterwards reaches the bound socket. */
#include "conf.h"

int main(void)
{
    struct sockaddr_un a, b;
    socklen_t alen = cf_unix_addr("srv.sock", &a), blen = cf_unix_addr("cli.sock", &b);
    unlink("srv.sock");
    unlink("cli.sock");
    int s = socket(AF_UNIX, SOCK_DGRAM, 0), c = socket(AF_UNIX, SOCK_DGRAM, 0);
    cf_sys(s);
    cf_sys(c);
    cf_sys(bind(s, (void *)&a, alen));
    cf_sys(bind(c, (void *)&b, blen));
    cf_sys(connect(c, (void *)&a, alen));
    cf_check(sendto(s, "reply", 5, 0, (void *)&b, blen) == 5, "sendto the client: %s", strerror(errno));
    cf_ready();
    cf_wait();
    cf_check(strcmp(cf_sockname(c, 1), "unix srv.sock") == 0, "peer: expected 'unix srv.sock', got %s", cf_sockname(c, 1));
    char buf[8] = "";
    cf_check(recv(c, buf, sizeof buf, MSG_DONTWAIT) == 5 && memcmp(buf, "reply", 5) == 0, "the queued reply: got '%s'", buf);
    cf_check(send(c, "ping", 4, 0) == 4, "send on the connected socket: %s", strerror(errno));
    struct sockaddr_storage from;
    socklen_t flen = sizeof from;
    cf_check(recvfrom(s, buf, sizeof buf, MSG_DONTWAIT, (void *)&from, &flen) == 4 && memcmp(buf, "ping", 4) == 0,
             "the bound socket: expected 'ping', got '%s' (%s)", buf, strerror(errno));
    cf_check(strcmp(cf_addr_str(&from, flen), "unix cli.sock") == 0, "sender: expected 'unix cli.sock', got %s",
             cf_addr_str(&from, flen));
    unlink("srv.sock");
    unlink("cli.sock");
    cf_pass();
}
