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

/* "--relocate=ORIGINAL=GENDIR/slurm_script" when gendir holds a copy, else "" */
void cr_batch_relocate_arg(const char *gendir, char *out, size_t len);

#endif
