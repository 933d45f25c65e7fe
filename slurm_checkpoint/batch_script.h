/* The script of a batch step.  Slurm runs it from its spool directory
 * (<SlurmdSpoolDir>/job<ID>/slurm_script) and removes it when the job ends, while the
 * shell keeps it open (bash as fd 255) and reads it as it goes: a checkpoint of the
 * batch script's tree keeps a copy next to script.ckpt (gen.N/slurm_script, and its
 * original path in gen.N/slurm_script.path), and restart gives cr_restart
 * --relocate ORIGINAL=COPY. */
#ifndef SLURM_CR_BATCH_SCRIPT_H
#define SLURM_CR_BATCH_SCRIPT_H

#include <stddef.h>
#include <sys/types.h>

/* Copies the script that process pid has open into gendir; 0 (also when it has none
 * open), or -errno with msg. */
int cr_batch_save_script(pid_t pid, const char *gendir, char *msg, size_t len);

/* The batch script's output files (its stdout and stderr, when they are regular
 * files).  A checkpoint keeps what was written up to then (gen.N/output.K, and
 * output.K.path: "SIZE PATH" then "fd FD").  At restart, cr_batch_restore_outputs gives
 * it back: under the same job (a requeue) Slurm truncated the files while the restored
 * script writes on at its old offset, so the saved part is written back into a file that
 * is now shorter; in a new job, whose output files are others (slurm-<newid>.out), those
 * get the saved part and the script goes on writing there: a "--relocate=OLD=NEW" for
 * cr_restart is put in reloc[] (at most max).  Returns how many were put. */
int cr_batch_save_outputs(pid_t pid, const char *gendir, char *msg, size_t len);
#define CR_BATCH_ARG_MAX 8300
int cr_batch_restore_outputs(const char *gendir, char (*reloc)[CR_BATCH_ARG_MAX], int max);

/* "--relocate=ORIGINAL=GENDIR/slurm_script" when gendir holds a copy, else "" */
void cr_batch_relocate_arg(const char *gendir, char *out, size_t len);

#endif
