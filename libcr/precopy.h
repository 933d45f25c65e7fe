/* Pre-copy checkpoints (precopy.c): the memory written while the process runs, the
 * process stopped only for what changed since and for the rest of its state. */
#ifndef SLURM_CR_PRECOPY_H
#define SLURM_CR_PRECOPY_H

#include <stddef.h>
#include <stdint.h>

struct cr_job;
struct dump;

/* Before the freeze, the program running (the manager thread): whether this job can be
 * pre-copied; if so its memory is written to job->fd, pass after pass while the pages
 * written since the last shrink, and 1 is returned; else 0, with why in job->msg (a
 * note, shown with cr_checkpoint -v), and the job goes today's way. */
int cr_precopy_run(struct cr_job *job);
/* The dump's scratch mapping the pre-copy made (its tables live there): lent to
 * cr_dump_begin, NULL when there is no pre-copy; whether a scratch is that one
 * (cr_dump_free leaves it: cr_precopy_end unmaps it). */
char *cr_precopy_take_scratch(void);
int cr_precopy_owns(const char *scratch);
/* Frozen, in cr_dump_begin: the regions' VmFlags into d as the pre-copy read them
 * last (1), when nothing could have changed them since: /proc/self/maps the same, no
 * madvise, mlock or munlock through libc (vmflags_watch.c), the same VmLck; else 0
 * (cr_dump_regions reads smaps then). */
int cr_precopy_regions(struct dump *d);
/* vmflags_watch.c: calls that may have changed VmFlags, so far */
extern uint64_t cr_vmflags_changes;
/* Frozen, after cr_dump_begin: the pages written since the last pass and everything
 * not pre-copied taken (written, or copied to be written by cr_precopy_sync), then the
 * records and the trailer made.  0 when the file is complete but for what
 * cr_precopy_sync writes; 1 when the pre-copy cannot be used now (the
 * file is emptied, the reason in msg as a note, nothing else changed: the caller goes
 * today's way); -errno on a failure (the message in d). */
int cr_precopy_write(struct dump *d, int fd, char *note, size_t notelen);
/* Frozen: the pre-copy is not used after all (why, into the note); the file emptied. */
void cr_precopy_drop(int fd, char *note, size_t notelen, const char *why);
/* The process runs again: the blocks the stop copied, the records and the trailer
 * written, the header last; the file flushed to disk when asked (0 or -errno, the
 * message in d). */
int cr_precopy_sync(struct dump *d, int fd);
/* The job is over, whatever became of it: the write-protection dropped. */
void cr_precopy_end(void);
/* A forked child lets go of its copies (the memory protected is its parent's); a
 * restored copy forgets (nothing of it was restored). */
void cr_precopy_forked(void);
void cr_precopy_restored(void);

#endif
