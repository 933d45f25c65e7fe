/* The pids a restored program knows by their first values (its own, its parent's,
 * its children's, its groups'), when a normal user's restart gave its tree new pids
 * instead of a user namespace (pid_map.c).  The table lives in the runtime's memory and
 * is saved with it; cr_restart writes the new one over it (restart.c, a poke), from the
 * saved table (CTX_REC_PID_MAP) and the pids the restored processes now have. */
#ifndef SLURM_CR_PID_MAP_H
#define SLURM_CR_PID_MAP_H

#include <stdint.h>
#include <sys/types.h>

#define CR_PID_MAP_MAX 126     /* (with its header, two of the restorer's pokes) */

struct cr_pid_pair {
    int32_t known;             /* as the program knows it */
    int32_t real;              /* as the kernel numbers it now */
};

struct cr_pid_map {
    uint32_t n, pad;
    struct cr_pid_pair e[CR_PID_MAP_MAX];
};

/* The runtime's table (none in a process that was never given new pids). */
extern struct cr_pid_map cr_pid_map;
/* Whether the program's libc calls reach the table (the runtime preloaded): else its
 * image has none, and a restart gives the tree a pid namespace. */
extern int cr_pid_map_usable;

/* The runtime's own: a pid as the program knows it, and as the kernel numbers it now
 * (the pids it notes across a checkpoint are the program's). */
pid_t cr_pid_known(pid_t real);
pid_t cr_pid_real(pid_t known);
/* Whether a call that returns to `from` is translated: a table exists, and it is the
 * program's (not the runtime's own code). */
int cr_pid_translating(const void *from);
/* Whether a call that returns to `from` is the program's (not the runtime's own code). */
int cr_pid_program_call(const void *from);
/* How many times this process was restarted (the restorer counts them). */
uint64_t cr_pid_restarts(void);

/* A signal's siginfo (sigwaitinfo's, a handler's): its sender as the program knows it. */
#include <signal.h>
void cr_pid_siginfo_known(siginfo_t *info);
/* ... and back, as the kernel numbers it now (a signal queued again at a restart). */
void cr_pid_siginfo_real(siginfo_t *info);

/* A wait in progress in a thread stopped by the quiesce signal: the pid it waits for,
 * noted as the program knows it before the thread parks (save) and put back as the
 * kernel numbers it now once the thread goes on, restored or not (restore). */
#include <ucontext.h>
struct cr_pid_args {
    int reg;                   /* the register that holds it, or -1 */
    int32_t known;
};
void cr_pid_args_save(const ucontext_t *uc, struct cr_pid_args *a);
void cr_pid_args_restore(ucontext_t *uc, const struct cr_pid_args *a);

/* The SCM_CREDENTIALS pids of a message the program received (from: its caller), as the
 * program knows them. */
struct msghdr;
void cr_pid_creds_known(struct msghdr *msg, const void *from);

/* F_GETLK's answer (a struct flock): its holder as the program knows it. */
void cr_pid_lock_holder_known(void *flock_arg, const void *from);

/* fcntl's owner of an fd's signals (dnotify_track.c's fcntl): the argument to give
 * F_SETOWN or F_SETOWN_EX (ex: room for a copy), then the result of F_GETOWN or the
 * answer of F_GETOWN_EX, each as the kernel and as the program number it (from: the
 * caller). */
struct f_owner_ex;
void *cr_pid_owner_arg(int cmd, void *arg, struct f_owner_ex *ex, const void *from);
int cr_pid_owner_result(int cmd, int r, void *arg, const void *from);

/* A call the program makes through syscall() (aio.c's), its pids translated (from: its
 * caller); `call` makes it, returning the result or -1 and errno. */
long cr_pid_syscall(long nr, long a[6], const void *from,
                    long (*call)(long, long, long, long, long, long, long));

#endif
