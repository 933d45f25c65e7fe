/* Inside cr_restart's child, before the restorer takes over: shared by restart.c
 * (the plan, the hole, the jump), restart_child.c (the small helpers), restart_fds.c
 * (the file descriptors) and the fd kinds (resources/). */
#ifndef SLURM_CR_RESTART_CHILD_H
#define SLURM_CR_RESTART_CHILD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "restart.h"
#include "say.h"
#include "restore_plan.h"

/* What the processes of a tree share, made once before any of them is forked: the
 * pipes between them and the open files they share (kept above every image's fds). */
struct cr_pool {
    uint32_t npipes, norigins, nsocks, nmems, nptys;
    struct cr_pool_pipe { uint64_t ino; int end[2], filled; } *pipes; /* filled: its data is back */
    struct cr_pool_sock { uint64_t ino, peer; int fd, filled; } *socks; /* unix pairs across processes */
    struct cr_pool_origin { uint32_t member; int32_t fd; int obj; } *origins;
    struct cr_pool_mem { uint64_t dev, ino; int fd, shmid; } *mems; /* shared memory across
                                  processes: a memfd (shmid -1) or a System V segment (fd -1) */
    struct cr_pool_pty { int32_t index; int master; char slave[32]; } *ptys;
};

struct child {
    struct ctx_image *img;
    const struct cr_pool *pool; /* a tree's process: its shared objects, and its number */
    uint32_t member;
    int drop_caps_late;         /* the restorer drops CAP_CHECKPOINT_RESTORE (become_owner) */
    int keep_fd;                /* open until the image's fds are (or 0: none) */
    const struct cr_restart_opts *o;
    int status_fd;
    int high;               /* helpers live at or above this fd */
    int stdio[3];           /* cr_restart's own stdio, kept for CTX_FD_INHERIT */
    int step_pmi;           /* cr_restart's PMI_FD (a task of a new Slurm step), kept for
                               CTX_FD_PMI; -1 none */
    int *map_fds;           /* per VMA */
    int *shm_ids;           /* per VMA: its new System V segment (CTX_VMA_SYSV), or -1 */
    int *anon_fds;          /* per VMA: the memfd of shared memory it maps with others of
                               the process (a deleted file mapped twice), or -1 */
    int32_t *helpers;
    uint32_t nhelpers;
    struct rp_poke pokes[RP_POKES]; /* bytes the restorer writes over the restored memory */
    uint32_t npokes;        /* (a PMIx client's new name: resources/pmix_link.c) */
    const struct ctx_pid_pair *pids; /* a tree's: each process's pid in the file and now,
                               npids of them (NULL: this process alone) */
    uint32_t npids;
    int new_pids;           /* the tree got new pids in place (restart_tree.c) */
    int stands_in;          /* cr_restart, its parent, stands for it (a process alone, a
                               tree's root in place): killed, it takes the process along */
    int lazy_sock;          /* lazy restart (o->lazy): where the userfaultfd goes to cr_restart */
    int uffd;               /* lazy restart: the lazy VMAs are registered with it; -1 none */
};


/* The pid a process of the restarted tree has now, given its pid in the file (a tree
 * restarted with new pids, c->pids); the same pid otherwise. */
pid_t cr_child_pid_now(const struct child *c, pid_t in_file);

/* Reports to the waiting cr_restart and exits. */
__attribute__((noreturn, format(printf, 3, 4)))
void child_fail(struct child *c, int code, const char *fmt, ...);

/* Writes len bytes of data to path atomically (a temporary name, then renamed): what a
 * task publishes in its step's meeting place (--step-dir); fails the restart if it
 * cannot. */
void child_publish(struct child *c, const char *path, const void *data, size_t len);

/* Moves fd to c->high or above (where cr_restart's own fds live), closing the old. */
int move_high(struct child *c, int fd);

/* The path after --relocate; *moved tells whether a rule applied. */
const char *relocate(const struct cr_restart_opts *o, const char *path, char *buf, size_t len,
                     int *moved);

/* resources/step_conn.c: this task's rank and the step's task count, from the manifest
 * of the generation its image is in; 0 when there is none. */
int cr_step_rank(struct child *c, unsigned *rank, unsigned *tasks);

/* restart_step_pids.c: a task of a step (--step-dir): its processes' pids (mine, n
 * pairs: as the program knows each and as it is now) said to the other tasks, and
 * (want) theirs on this node added to map, the runtime's table to be. */
struct cr_pid_map;
void cr_step_pids(struct child *c, const struct ctx_pid_pair *mine, uint32_t n, int want,
                  struct cr_pid_map *map);
/* A task of a step restarted with --step-dir (not --stop): its threads wait at the
 * restorer's gate until every task of the step is restored; cr_step_start, in
 * cr_restart once its process said so, waits for them and opens the gate (0, or
 * -errno with the message in err: the process has not run).  With gate 0 (a tree, a
 * ptrace image: not held) it only says the task is restored. */
int cr_step_gated(const struct cr_restart_opts *o);
int cr_step_start(const struct cr_restart_opts *o, pid_t pid, uint64_t gate, char *err, size_t len);
/* restart_step_shm.c: memory shared with other tasks of the step (--step-dir and the
 * generation's shm.NODE lists).  Deleted files and memfds: c->map_fds of their VMAs
 * set to the one file (made and filled by the first rank, opened by the others), each
 * fd given to add_helper; before the fds are restored.  A System V segment: cr_step_shm_sysv gives the id another
 * rank made again (-1: this process makes it: not shared, or its first rank), and
 * cr_step_shm_sysv_attached says a made one's id to the others or checks a joined one. */
void cr_step_shm_files(struct child *c, void (*add_helper)(struct child *, int));
/* A deleted file's fd record that is such memory (after cr_step_shm_files): a new open
 * of the one file with flags; -1 when it is not. */
int cr_step_shm_fd(struct child *c, const struct ctx_fd *f, int flags);
/* A named tmpfs file mapped by other tasks too (Open MPI's vader segments), saved once
 * by the node agent: put back at its path by the first rank, before any task opens it
 * (before the mapped files are opened). */
void cr_step_shm_named(struct child *c);
/* Whether the generation of the image (o->src) holds such a file's saved copy: then it
 * need not be there before the restart, nor be the very file. */
int cr_step_shm_saved_file(const struct cr_restart_opts *o, const struct ctx_vma *v);
int cr_step_shm_sysv(struct child *c, uint32_t vma);
void cr_step_shm_sysv_attached(struct child *c, uint32_t vma, int id);

/* Moves a tree's shared object to fd `low` or above (above every image's fds). */
int pool_fd(struct child *c, int fd, int low);

/* A new System V shared memory segment of size bytes, removed by nobody yet: with the
 * id old_id where the caller may choose ids (root) and it is free, else another. */
int cr_new_sysv_segment(uint64_t old_id, uint64_t size);

/* A memfd named as the one in "/memfd:NAME (deleted)", sealable (resources/file.c). */
int cr_make_memfd(const char *path);

/* Every fd of the image at its number; cr_restart's stdio copies are closed after. */
void restore_fds(struct child *c);

/* Rebuilds the process and hands over to the restorer. */
__attribute__((noreturn)) void cr_restart_child(struct child *c);

#endif
