/* Signal actions: handlers with SA_SIGINFO|SA_RESTART and a mask, with
 * SA_NODEFER|SA_RESETHAND, an ignored signal, SIGCHLD with SA_NOCLDSTOP. */
#include "conf.h"

static volatile int hup, winch, hup_code;
static void on_hup(int s, siginfo_t *si, void *u) { (void)s; (void)u; hup++; hup_code = si->si_code; }
static void on_winch(int s) { (void)s; winch++; }

static void expect(int sig, void *handler, int flags, const int *mask, const char *name)
{
    struct sigaction g;
    cf_sys(sigaction(sig, NULL, &g));
    void *h = (g.sa_flags & SA_SIGINFO) ? (void *)g.sa_sigaction : (void *)g.sa_handler;
    int f = g.sa_flags & ~(int)0x04000000; /* SA_RESTORER, glibc's */
    cf_check(h == handler, "%s: handler expected %p, got %p", name, handler, h);
    cf_check(f == flags, "%s: flags expected 0x%x, got 0x%x", name, flags, f);
    for (int i = 1; i < 32; i++) {
        int in = 0;
        for (const int *m = mask; *m; m++)
            in |= *m == i;
        cf_check(sigismember(&g.sa_mask, i) == in, "%s: sa_mask signal %d expected %s", name, i, in ? "in" : "out");
    }
}

int main(void)
{
    struct sigaction a = { .sa_sigaction = on_hup, .sa_flags = SA_SIGINFO | SA_RESTART };
    sigemptyset(&a.sa_mask);
    sigaddset(&a.sa_mask, SIGINT);
    sigaddset(&a.sa_mask, SIGQUIT);
    cf_sys(sigaction(SIGHUP, &a, NULL));
    struct sigaction b = { .sa_handler = on_winch, .sa_flags = SA_NODEFER | SA_RESETHAND };
    cf_sys(sigaction(SIGWINCH, &b, NULL));
    struct sigaction c = { .sa_handler = SIG_IGN };
    cf_sys(sigaction(SIGPIPE, &c, NULL));
    struct sigaction d = { .sa_handler = SIG_DFL, .sa_flags = SA_NOCLDSTOP };
    cf_sys(sigaction(SIGCHLD, &d, NULL));
    cf_ready();
    cf_wait();
    static const int hupmask[] = { SIGINT, SIGQUIT, 0 }, none[] = { 0 };
    expect(SIGHUP, (void *)on_hup, SA_SIGINFO | SA_RESTART, hupmask, "SIGHUP");
    expect(SIGWINCH, (void *)on_winch, SA_NODEFER | SA_RESETHAND, none, "SIGWINCH");
    expect(SIGPIPE, (void *)SIG_IGN, 0, none, "SIGPIPE");
    expect(SIGCHLD, (void *)SIG_DFL, SA_NOCLDSTOP, none, "SIGCHLD");
    raise(SIGHUP);
    cf_check(hup == 1 && hup_code == SI_TKILL, "SIGHUP: the handler ran %d times (code %d)", hup, hup_code);
    raise(SIGWINCH);
    cf_check(winch == 1, "SIGWINCH: the handler ran %d times", winch);
    struct sigaction g;
    cf_sys(sigaction(SIGWINCH, NULL, &g));
    cf_check(g.sa_handler == SIG_DFL, "SIGWINCH after one delivery: expected SIG_DFL (SA_RESETHAND), got %p", (void *)g.sa_handler);
    cf_pass();
}
