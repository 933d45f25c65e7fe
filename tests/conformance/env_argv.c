/* Arguments (one with a space, one empty) and environment variables (set at exec
 * and by setenv afterwards): argv, environ, /proc/self/cmdline and environ. */
#include "conf.h"

extern char **environ;

static size_t slurp(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY);
    size_t got = 0;
    ssize_t n;
    while (fd >= 0 && got < len && (n = read(fd, buf + got, len - got)) > 0)
        got += (size_t)n;
    if (fd >= 0)
        close(fd);
    return got;
}

int main(int argc, char **argv)
{
    if (argc == 1) { /* once again with arguments and variables of our own */
        size_t n = 0;
        while (environ[n])
            n++;
        char **env = calloc(n + 3, sizeof *env);
        memcpy(env, environ, n * sizeof *env);
        env[n] = "CONF_A=1";
        env[n + 1] = "CONF_B=two words";
        char *args[] = { argv[0], "alpha", "beta gamma", "", NULL };
        execve("/proc/self/exe", args, env);
        cf_fail("execve: %s", strerror(errno));
    }
    cf_sys(setenv("CONF_C", "set later", 1));
    static char cmd0[4096], env0[65536], cmd1[4096], env1[65536];
    size_t nc = slurp("/proc/self/cmdline", cmd0, sizeof cmd0), ne = slurp("/proc/self/environ", env0, sizeof env0);
    cf_ready();
    cf_wait();
    cf_check(argc == 4 && strcmp(argv[1], "alpha") == 0 && strcmp(argv[2], "beta gamma") == 0 && argv[3][0] == 0 && !argv[4],
             "argv: expected 4 arguments 'alpha' 'beta gamma' '', got %d", argc);
    const char *a = getenv("CONF_A"), *b = getenv("CONF_B"), *c = getenv("CONF_C");
    cf_check(a && b && c && !strcmp(a, "1") && !strcmp(b, "two words") && !strcmp(c, "set later"),
             "environment: expected CONF_A=1 CONF_B='two words' CONF_C='set later', got %s %s %s", a ? a : "-", b ? b : "-", c ? c : "-");
    size_t mc = slurp("/proc/self/cmdline", cmd1, sizeof cmd1), me = slurp("/proc/self/environ", env1, sizeof env1);
    cf_check(mc == nc && memcmp(cmd0, cmd1, nc) == 0, "/proc/self/cmdline: expected %zu bytes '%s ...', got %zu bytes '%s ...'", nc, cmd0, mc, cmd1);
    cf_check(me == ne && memcmp(env0, env1, ne) == 0, "/proc/self/environ: expected %zu bytes, got %zu (or different)", ne, me);
    cf_pass();
}
