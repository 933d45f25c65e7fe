/* Restart with the user backend: checks that the image can run here, then forks a
 * child that rebuilds the process (files, fds, cwd, limits, signal handlers), builds
 * the restore plan and hands over to the restorer. */
#ifndef SLURM_CR_RESTART_H
#define SLURM_CR_RESTART_H

#include <sys/types.h>

#include "context_reader.h"

#define CR_MAX_RELOCATE 16

struct cr_restart_opts {
    const char *src;           /* the context file's absolute path, for the process */
    int nreloc;
    const char *reloc_old[CR_MAX_RELOCATE], *reloc_new[CR_MAX_RELOCATE];
    int keep_pgid, keep_sid;   /* a lone process stays in cr_restart's process group,
                                  session (--no-restore-pgid, --no-restore-sid) */
    int stop_first;            /* --stop: each process stops before it runs the program */
    const char *step_dir;      /* --step-dir: where the tasks of a restarted step meet to
                                  connect their connections again (CTX_FD_STEP_CONN) */
    int lazy;                  /* a lone process: its memory filled on demand (restart_lazy.h;
                                  cr_restart decided it was possible) */
    pid_t want_pid;            /* a lone process: the pid it gets (its old one, --restore-pid);
                                  0: any */
    int new_pids;              /* a lone process: a new pid that the program sees as its
                                  old one (its image has the runtime's table, pid_map.c) */
};

/* fork(), with the given pid when want > 0 (clone3 set_tid: root or
 * CAP_CHECKPOINT_RESTORE; EEXIST when it is taken), and clone flags (CLONE_PARENT).
 * A raw clone3: the caller must have no other thread (libc's locks are not reset). */
pid_t cr_fork_as(pid_t want, unsigned long flags);

/* Parses "OLD=NEW" into opts; returns -EINVAL (with a message) when malformed. */
int cr_restart_add_relocation(struct cr_restart_opts *o, const char *arg, char *err, size_t errlen);

void cr_restart_opts_free(struct cr_restart_opts *o);

/* Refuses, with a precise message, an image that cannot run on this system: another
 * kernel's vdso, a changed or vanished executable, library or file. */
int cr_restart_check(const struct ctx_image *img, const struct cr_restart_opts *o, char *err,
                     size_t errlen);

/* restart_hole.c: the restored process pid (a ptrace image's, which has no runtime),
 * its threads waiting at the restorer's gate (its address; 0: none, they run already):
 * its robust mutexes given their owners' new tids, its threads' and its own attributes
 * put back, the gate opened, and once no thread runs in the restorer's memory [start,
 * start + len), that memory unmapped; 0, or -errno and msg. */
int cr_restart_unmap_hole(pid_t pid, uint64_t start, uint64_t len, uint64_t gate,
                          const struct ctx_image *img, char *msg, size_t msglen);

/* The same in steps, for a tree whose processes are all completed before any runs:
 * put back (its threads at the gate; the gate stays shut), open the gate, then remove
 * the restorer's memory; whether the gate is open (the process ran). */
int cr_restart_put_back(pid_t pid, uint64_t gate, const struct ctx_image *img, char *msg,
                        size_t msglen);
int cr_restart_open_gate(pid_t pid, uint64_t gate, char *msg, size_t msglen);
int cr_restart_remove_hole(pid_t pid, uint64_t start, uint64_t len, const struct ctx_image *img,
                           char *msg, size_t msglen);
int cr_restart_gate_opened(pid_t pid, uint64_t gate);


/* Starts the restored process as a child of the caller.  Returns its pid once the
 * restorer has passed the point of no return, or -errno with a message.  With
 * o->lazy, *lazy is the monitor that fills its memory (cr_lazy_finish it before
 * leaving). */
struct cr_lazy;
pid_t cr_restart_spawn(struct ctx_image *img, const struct cr_restart_opts *o, struct cr_lazy **lazy,
                       char *err, size_t errlen);

/* Sends sig to every descendant of top (a restarted tree's init: the whole tree). */
void cr_tree_signal(pid_t top, int sig);
/* A SIGCONT for a restarted tree's job: the group its root leads (as a shell's fg), or
 * the root and those below it in its group. */
void cr_tree_continue(pid_t root);

/* Ends the caller as a wait status says: the same exit code, or the same signal
 * (without a core dump). */
__attribute__((noreturn)) void cr_exit_as(int status);

/* Starts every process of a tree file (ctx_tree_open) with its shape:
 * CR_TREE_NAMESPACE: its pids, in a new pid namespace whose pid 1 is the returned child,
 * which writes the root's wait status to *exit_fd when it ends (before that, each stop
 * of a root that was stopped at the checkpoint: a WIFSTOPPED status);
 * CR_TREE_OLD_PIDS (root, CAP_CHECKPOINT_RESTORE): the exact pids, in place;
 * CR_TREE_NEW_PIDS (a normal user): new pids in place, each program still seeing the
 * old ones (pid_map.c; every image must have the runtime's table, CTX_REC_PID_MAP).
 * In place, the root is the returned pid (the caller is made its reaper). */
enum { CR_TREE_NAMESPACE, CR_TREE_OLD_PIDS, CR_TREE_NEW_PIDS };
pid_t cr_restart_spawn_tree(struct ctx_tree *t, const struct cr_restart_opts *o, int pid_mode,
                            int *exit_fd, char *errbuf, size_t errlen);

/* The fd of a socket of img (a process alone) that has a message queued with the
 * process's own credentials (SCM_CREDENTIALS), which it sends again itself at restart:
 * only with its old pid do they come back as they were; -1 if none (resources/socket.c). */
struct ctx_image;
int cr_image_sends_own_creds(const struct ctx_image *img);

/* Whether this process may give restored processes chosen pids (root,
 * CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN), as --restore-pid needs. */
int cr_restart_may_restore_pid(void);

/* restart_identity.c: checks that the image claims no identity but its file owner's
 * (st: fstat of the opened file), and makes root that owner before anything of the
 * image is acted upon; keep_cap (a capability, or -1) is the one it keeps for what only
 * root can do for the user: CAP_CHECKPOINT_RESTORE for the old pids (--restore-pid),
 * CAP_SYS_ADMIN for a tree's pid namespace without a user namespace (in which the
 * files and processes of other users would show as nobody's); cr_restart_drop_caps()
 * drops it in each restored process and in cr_restart once they exist. */
struct stat;
int cr_restart_take_identity(const struct ctx_tree *t, const struct stat *st, const char *path,
                             int keep_cap, char *err, size_t errlen);
void cr_restart_drop_caps(void);
/* Whether CAP_CHECKPOINT_RESTORE is in this thread's effective set. */
int cr_restart_has_restore_cap(void);

/* restart_grant.c: asks the crctl module (/dev/crctl) for CAP_CHECKPOINT_RESTORE in this
 * thread for one restore of image_fd, a context file the caller owns, which makes the
 * npids processes pids (checked free by the module where it can): 1 granted, 0 no
 * module, < 0 refused (-errno, the module's reason in err).  cr_restart_grant_end()
 * gives it back (a no-op without a grant). */
int cr_restart_grant(int image_fd, const pid_t *pids, uint32_t npids, char *err, size_t errlen);
void cr_restart_grant_end(void);
/* Whether there is a module to ask (/dev/crctl exists). */
int cr_restart_grant_possible(void);

#endif
