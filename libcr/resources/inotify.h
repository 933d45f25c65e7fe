/* inotify.c's watches, shared with inotify_queued.c (an instance with events queued). */
#ifndef SLURM_CR_RES_INOTIFY_H
#define SLURM_CR_RES_INOTIFY_H

#include "resources.h"

/* dump: fd's watches into out (cap bytes, *used of them); refusing: its events are
 * refused next (a watch whose path is not found is named by its inode for that) */
int inotify_watches(struct dump *d, struct fd_scan *s, int fd, int refusing, char *out, size_t cap,
                    size_t *used);
/* dump: a path of the inode ino of device maj:min (the kernel's sdev) where the
 * process's paths are (its open files, working directory, their parents, two levels
 * below it) into path (CTX_PATH_MAX): 1 found, 0 not (fanotify.c too) */
int watched_path(struct dump *d, struct fd_scan *s, uint64_t ino, unsigned maj, unsigned min,
                 char *path);
/* dump: the record of an instance whose events (about expect bytes) the runtime keeps;
 * a CTX_FD_INOTIFY one when none is queued after all */
int save_inotify_queued(struct dump *d, const struct cr_fd_probe *p, const char *watches, size_t wlen,
                        size_t expect);
/* restart: every watched path is there; the instance made again (sentinel > 0: with
 * that watch's IN_IGNORED queued) */
int inotify_check_watches(const struct ctx_fd *f, const char *extra, size_t extra_len, char *err,
                          size_t len);
int inotify_rebuild(struct child *c, const struct ctx_fd *f, const char *extra, size_t extra_len,
                    int32_t sentinel);
/* reader and cr_info */
int inotify_watches_valid(const char *extra, size_t extra_len, int32_t *max_wd);
void inotify_describe_watches(FILE *out, const char *extra, size_t extra_len);

#endif
