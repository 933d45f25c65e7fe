/* An alternate signal stack and a SIGWINCH handler with SA_ONSTACK: the same
 * stack, and the handler runs on it. */
#include "conf.h"

static char *stk;
#define STK (64 * 1024)
static volatile uintptr_t where;
static void on_sig(int s) { volatile char here; (void)s; where = (uintptr_t)&here; }

int main(void)
{
    stk = malloc(STK);
    stack_t ss = { .ss_sp = stk, .ss_size = STK, .ss_flags = 0 };
    cf_sys(sigaltstack(&ss, NULL));
    struct sigaction sa = { .sa_handler = on_sig, .sa_flags = SA_ONSTACK };
    cf_sys(sigaction(SIGWINCH, &sa, NULL));
    cf_ready();
    cf_wait();
    stack_t g;
    cf_sys(sigaltstack(NULL, &g));
    cf_check(g.ss_sp == stk && g.ss_size == STK && g.ss_flags == 0, "sigaltstack: expected %p size %d, got %p size %zu flags %d",
             (void *)stk, STK, g.ss_sp, g.ss_size, g.ss_flags);
    raise(SIGWINCH);
    cf_check(where >= (uintptr_t)stk && where < (uintptr_t)stk + STK, "the handler ran at %p, not on the stack %p-%p", (void *)where,
             (void *)stk, (void *)(stk + STK));
    cf_pass();
}
