/* Inside cr_restart's child, before the restorer takes over: shared by restart.c
 * (the plan, the hole, the jump), restart_child.c (the small helpers), restart_fds.c
 * (the file descriptors) and the fd kinds (resources/). */
#ifndef SLURM_CR_RESTART_CHILD_H
#define SLURM_CR_RESTART_CHILD_H

#include <stddef.h>
#include <stdint.h>

#include "restart.h"

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
    int lazy_sock;          /* lazy restart (o->lazy): where the userfaultfd goes to cr_restart */
    int uffd;               /* lazy restart: the lazy VMAs are registered with it; -1 none */
};

/* Writes the message into err and returns -code: how restart's functions refuse. */
int cr_say(char *err, size_t len, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Reports to the waiting cr_restart and exits. */
__attribute__((noreturn, format(printf, 3, 4)))
void child_fail(struct child *c, int code, const char *fmt, ...);

/* Moves fd to c->high or above (where cr_restart's own fds live), closing the old. */
int move_high(struct child *c, int fd);

/* The path after --relocate; *moved tells whether a rule applied. */
const char *relocate(const struct cr_restart_opts *o, const char *path, char *buf, size_t len,
                     int *moved);

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
