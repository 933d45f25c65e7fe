/* The kinds of file descriptor, one file each in this directory: how the dumper
 * recognizes and saves one, and how a restarted process (and a restarted tree's pool
 * of shared objects) gets it back.  One table of operations, cr_fd_kinds[]. */
#ifndef SLURM_CR_RESOURCES_H
#define SLURM_CR_RESOURCES_H

/* For now each file holds the restart side's half of its kind, and is compiled into
 * libcrcore; the dumper still recognizes and saves fds in dump_fds.c and
 * dump_sockets.c. */

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "context_format.h"
#include "restart_child.h"

/* ---- the restart side: a tree's pool, as build_pool() hands it to the kinds ---- */

struct cr_pool_build {
    struct ctx_tree *t;
    const struct cr_restart_opts *o;
    struct cr_pool *pool;
    struct child *rep;         /* reports a failure to cr_restart */
    int status_fd;
    int low;                   /* shared objects live at or above this fd */
};

/* One kind of fd record (CTX_FD_*).  Every operation is optional. */
struct cr_fd_ops {
    uint32_t kind;             /* CTX_FD_* */
    const char *name;          /* what cr_info and messages call it */

    /* restart side (libcrcore) */
    /* before anything is started (cr_restart_check): 0 or -errno with a message */
    int (*check)(const struct ctx_fd *f, const struct cr_restart_opts *o, char *err, size_t len);
    /* a new object for the record, on its own (fd_object()); it fails the child */
    int (*make)(struct child *c, const struct ctx_fd *f, uint32_t rec);
    /* the object in the restarted process, from the tree's pool or made here; *own
     * (1 on entry): the driver closes it once placed.  Without it: make, owned. */
    int (*restore)(struct child *c, const struct ctx_fd *f, uint32_t rec, int *own);
    int late;                  /* restored after every other fd (epoll: its targets) */
    int restore_nonblock;      /* the driver sets O_NONBLOCK as saved once it is placed */
    /* after every fd is placed: closes what the kind kept for the restore */
    void (*finish)(struct child *c);
    /* a tree: objects its processes share, made once before any is forked */
    void (*pool)(struct cr_pool_build *b, uint32_t member, uint32_t rec, const struct ctx_fd *f);
    int pool_early;            /* made before every other kind's */
};

/* Every kind, NULL-terminated (resources.c). */
extern const struct cr_fd_ops *const cr_fd_kinds[];
const struct cr_fd_ops *cr_fd_kind(uint32_t kind);

/* ---- helpers the kinds share ---- */

/* A new open file description for a record that processes of a tree share (a file,
 * directory, device, eventfd, timerfd, signalfd, pty or listening socket); -1 for a
 * kind that cannot be. */
int fd_object(struct child *c, const struct ctx_fd *f, uint32_t rec);

/* file.c: a file opened by path must still be there (or be relocated). */
int check_path(const struct ctx_fd *f, const struct cr_restart_opts *o, char *err, size_t len);

/* socket.c: the tree's pool: the socket made for this inode; the one a record of this
 * process takes (-1 none); whether a process other than number i has a socket of this
 * inode. */
struct cr_pool_sock *pool_sock(struct cr_pool *pool, uint64_t ino);
int pool_pair_end(struct child *c, const struct ctx_fd *f);
int in_other_image(const struct ctx_tree *t, uint32_t i, uint64_t ino);

/* shared.c: the object of fd `fd` of the tree's process number `member`, made by the
 * pool (-1 none). */
int pool_origin(struct child *c, uint32_t member, int fd);

#endif
