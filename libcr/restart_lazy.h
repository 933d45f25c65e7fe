/* Lazy restart: the restored process runs before its memory is read; its larger
 * private anonymous regions are registered with a userfaultfd and filled on demand
 * and in the background by a monitor thread in cr_restart.  Why this way, and where it
 * applies: doc/lazy-restart.md. */
#ifndef SLURM_CR_RESTART_LAZY_H
#define SLURM_CR_RESTART_LAZY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "context_reader.h"

enum cr_restart_mode {
    CR_RESTART_AUTO,           /* lazy where it is possible and worth it, else eager */
    CR_RESTART_EAGER,          /* every page read before the program runs */
    CR_RESTART_LAZY,           /* lazy, or refuse with the reason (--lazy) */
    CR_RESTART_LAZY_WHEREVER,  /* lazy wherever possible, whatever the size; eager
                                  elsewhere (CR_RESTART_MODE=lazy) */
};

/* A region smaller than this is read eagerly: one fault would cost more. */
#define CR_LAZY_MIN_PAGES 64
/* CR_RESTART_AUTO goes lazy only from this much lazy memory on (below it eager
 * takes a few milliseconds). */
#define CR_LAZY_AUTO_BYTES (16ULL << 20)

/* Parses CR_RESTART_MODE: "auto", "eager" or "lazy" (CR_RESTART_LAZY_WHEREVER); -1
 * for anything else. */
int cr_restart_mode_parse(const char *s);

/* Which VMAs of img are restored lazily: lazy[i] for each (the same answer in
 * cr_restart and in its child, from the image alone; at most RP_LAZY_RANGES, the
 * first ones).  Returns how many. */
uint32_t cr_lazy_vmas(const struct ctx_image *img, unsigned char *lazy);

/* Bytes of img's memory blocks that a lazy restart would serve on demand. */
uint64_t cr_lazy_bytes(const struct ctx_image *img);

/* 0 when a lone process from img can be restarted lazily here; else -errno and the
 * reason in why (a tree, a compressed image, an image on a network file system, no
 * userfaultfd with fork events for this caller). */
int cr_lazy_possible(const struct ctx_image *img, int as_tree, char *why, size_t len);

/* In cr_restart's child, before it gives up any privilege: a userfaultfd of its own
 * address space, with the events a faithful monitor needs; -errno and a message. */
int cr_lazy_open_uffd(char *err, size_t len);

/* Starts the monitor thread that serves img's lazy blocks in the address space of
 * uffd (the process pid and whatever it forks), from its own reference to the image
 * file.  NULL and a message on failure. */
struct cr_lazy;
struct cr_lazy *cr_lazy_start(const struct ctx_image *img, int uffd, pid_t pid, char *err,
                              size_t len);

/* The restorer has registered the regions (its status said so): the background copy
 * may begin.  Until then only faults are served. */
void cr_lazy_arm(struct cr_lazy *l);

/* Waits until every page is in (or every served process is gone) and frees the
 * monitor.  0, or -errno with the message when the image could not be read or
 * checked any more (the processes were killed then).  summary (may be NULL) says
 * what was served and how. */
int cr_lazy_finish(struct cr_lazy *l, char *err, size_t len, char *summary, size_t slen);

#endif
