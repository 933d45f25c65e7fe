/* A listening unix socket whose path was deleted: still listening, same address,
 * and the path stays absent. */
#include "conf.h"
#include <sys/stat.h>

int main(void)
{
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    cf_sys(s);
    struct sockaddr_un a;
    cf_sys(bind(s, (void *)&a, cf_unix_addr("gone.sock", &a)));
    cf_sys(listen(s, 4));
    cf_sys(unlink("gone.sock"));
    cf_ready();
    cf_wait();
    cf_check(cf_getint(s, SOL_SOCKET, SO_ACCEPTCONN) == 1, "SO_ACCEPTCONN: expected 1 (listening)");
    cf_check(strcmp(cf_sockname(s, 0), "unix gone.sock") == 0, "address: expected 'unix gone.sock', got %s", cf_sockname(s, 0));
    struct stat st;
    int r = stat("gone.sock", &st);
    cf_check(r < 0 && errno == ENOENT, "gone.sock: expected absent, got %s", r == 0 ? "present again" : strerror(errno));
    cf_pass();
}
