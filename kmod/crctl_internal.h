/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SLURM_CR_CRCTL_INTERNAL_H
#define SLURM_CR_CRCTL_INTERNAL_H

#include <linux/fs.h>
#include <linux/spinlock.h>
#include "crctl.h"

#define CRCTL_MOD_VERSION "0.1"

extern bool allow_restore_grant;
extern int restore_grant_gid;

/* What each open /dev/crctl keeps (file->private_data). */
struct crctl_open {
	/* which task holds its grant: 0 = none yet; else the holder's pid << 2 |
	 * CRCTL_ST_* bits */
	unsigned long state;
	spinlock_t lock;             /* guards msg */
	char msg[CRCTL_MSG_MAX];     /* the last refusal's reason */
};

#define CRCTL_ST_ACTIVE 0x1UL   /* a grant is held (cleared by END: the open is spent) */
#define CRCTL_ST_OURS   0x2UL   /* the module raised the capability (END lowers it) */
#define CRCTL_ST_BUSY   (~0UL)  /* a GRANT is being checked right now */

/* a refusal's reason, kept for CRCTL_LAST_ERROR; returns err for "return crctl_say(...)" */
long crctl_say(struct crctl_open *o, long err, const char *fmt, ...) __printf(3, 4);

long crctl_restore_grant(struct crctl_open *o, const struct crctl_grant __user *arg);
long crctl_restore_end(struct crctl_open *o);
long crctl_task_info(struct crctl_open *o, struct crctl_task_info __user *arg);

#endif
