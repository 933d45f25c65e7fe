/* Which pages a process wrote since its previous checkpoint (dirty_track.c), for an
 * incremental checkpoint (CR_CTL_INCREMENTAL): userfaultfd write-protection in async
 * mode, read and re-armed in one step by the PAGEMAP_SCAN ioctl (Linux 6.7 and newer).
 * Where that is missing, or the process could be disturbed by it, every checkpoint is
 * full and the reason is given to the requester. */
#ifndef SLURM_CR_DIRTY_TRACK_H
#define SLURM_CR_DIRTY_TRACK_H

#include <stddef.h>
#include <stdint.h>

#include "context_format.h"


struct dump;
struct cr_job;

/* What an incremental image says of its parent (CTX_REC_PARENT). */
struct cr_track_parent {
    uint32_t header_crc, depth;
    uint64_t created_ns, file_length;
    char name[CTX_PATH_MAX];   /* relative to the new file's directory, or absolute */
};

/* One run of pages PAGEMAP_SCAN reported (the kernel's struct page_region). */
struct cr_page_region {
    uint64_t start, end, categories;
};
/* Its categories the dumpers ask for besides PAGE_IS_WRITTEN (include/uapi/linux/fs.h;
 * the guard's from 6.15). */
#define CR_PAGE_PRESENT (1 << 3)
#define CR_PAGE_SWAPPED (1 << 4)
#define CR_PAGE_GUARD   (1 << 8)

/* Before the freeze (the manager thread, the program running): whether this job can
 * be incremental, its parent found where it was written; otherwise why not, in
 * job->msg (a note, not an error). */
void cr_track_prepare(struct cr_job *job);
/* Frozen, once the regions are read (cr_dump_begin) and before any snapshot child:
 * the pages written since the parent into d (d->incr then set), and every private
 * region write-protected for the next checkpoint.  Never fails the checkpoint: a
 * problem makes this one full. */
void cr_track_freeze(struct dump *d);
/* The job is over: its file, when written (job->err 0), is the next one's parent
 * wherever the requester puts it in the same directory (found by its inode then: a
 * requester that did not keep it, or renamed it away, makes the next one full). */
void cr_track_done(struct cr_job *job);
/* A forked child (its copy of the descriptor is closed: the parent's memory is not
 * its own) and a restored copy (nothing of it exists any more) start untracked. */
void cr_track_forked(void);
/* For the pre-copy (precopy.c), which write-protects the same way: why the process's
 * writes could escape the page tables' protection (its own userfaultfd other than
 * ours, pinned memory), or NULL; whether this tracking holds the memory now. */
const char *cr_track_untrackable(int ours, char *buf, size_t len);
int cr_track_in_use(void);
void cr_track_restored(void);

#endif
