/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/* /dev/crctl's ABI, shared by the module (kmod/) and user space.  See
 * doc/kmod-design.md, section 2.  Every struct has explicit padding; padding and
 * reserved fields must be zero, unknown flags are EINVAL: the ABI can grow by new
 * ioctl numbers without ambiguity. */
#ifndef SLURM_CR_CRCTL_H
#define SLURM_CR_CRCTL_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define CRCTL_DEVICE "/dev/crctl"
#define CRCTL_ABI 1
#define CRCTL_IOC_TYPE 0xCE

/* features */
#define CRCTL_F_RESTORE_GRANT (1ULL << 0) /* CRCTL_RESTORE_GRANT/END are served */
#define CRCTL_F_TASK_INFO     (1ULL << 1) /* designed, not built: never set yet */

struct crctl_version {
	__u32 abi;             /* CRCTL_ABI */
	__u32 size;            /* sizeof(struct crctl_version) as the module knows it */
	__u64 features;        /* CRCTL_F_*, what this module serves now */
	char module_version[32]; /* NUL-terminated */
};

/* CAP_CHECKPOINT_RESTORE for one restore of an image the caller owns: doc/kmod-design.md
 * section 4 lists the checks, in order, with their errno. */
struct crctl_grant {
	__s32 image_fd;        /* the context file, opened for reading by the caller */
	__u32 flags;           /* none defined: must be 0 */
	__u64 reserved[2];     /* must be 0 */
};

#define CRCTL_VERSION       _IOR(CRCTL_IOC_TYPE, 1, struct crctl_version)
#define CRCTL_RESTORE_GRANT _IOW(CRCTL_IOC_TYPE, 2, struct crctl_grant)
#define CRCTL_RESTORE_END   _IO(CRCTL_IOC_TYPE, 3)

/* The context file's magic (libcr/context_format.h CTX_MAGIC), checked by the grant */
#define CRCTL_CTX_MAGIC "SLURMCR-CONTEXT\n"
#define CRCTL_CTX_MAGIC_LEN 16

#endif
