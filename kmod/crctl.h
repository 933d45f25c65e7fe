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
#define CRCTL_F_TASK_INFO     (1ULL << 1) /* CRCTL_TASK_INFO is served */
#define CRCTL_F_LAST_ERROR    (1ULL << 2) /* CRCTL_LAST_ERROR is served */
#define CRCTL_F_GRANT_PIDS    (1ULL << 3) /* CRCTL_RESTORE_GRANT takes CRCTL_GRANT_PIDS */

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
	__u32 flags;           /* CRCTL_GRANT_PIDS or 0 */
	/* with CRCTL_GRANT_PIDS (a process alone or a tree): the pids the restore will make,
	 * each checked to be free before anything is granted; without it both must be 0.
	 * (These 16 bytes were reserved[2], zero, in the first version: same layout.) */
	__u64 pids;            /* user address of __s32[npids] */
	__u32 npids;           /* 1 .. CRCTL_GRANT_MAX_PIDS */
	__u32 pad;             /* must be 0 */
};
#define CRCTL_GRANT_PIDS     0x1u
#define CRCTL_GRANT_MAX_PIDS 65536 /* a context file's limit on a tree's processes */

/* What ptrace has no request for, of a thread the caller traces and that is in a
 * ptrace stop (doc/kmod-design.md section 3, step 5).  Addresses are the thread's own. */
struct crctl_task_info {
	__s32 tid;             /* in: a thread, as the caller's pid namespace numbers it */
	__u32 flags;           /* in: none defined, must be 0 */
	__u64 clear_child_tid; /* out: set_tid_address / CLONE_CHILD_CLEARTID address */
	__u64 rseq;            /* out: the registered struct rseq, 0 when none */
	__u32 rseq_len;        /* out: its registered length */
	__u32 rseq_sig;        /* out: its abort signature */
	__u64 sas_ss_sp;       /* out: sigaltstack */
	__u64 sas_ss_size;
	__u32 sas_ss_flags;    /* out: SS_AUTODISARM as set; SS_DISABLE when no stack */
	__u32 pad;             /* in: 0 */
	__u64 reserved[4];     /* in: 0; out: 0 */
};

/* The module's reason for the last refusal on this open file, one line, NUL-terminated;
 * empty after a call that succeeded (BLCR's --kmsg idea). */
#define CRCTL_MSG_MAX 256
struct crctl_message {
	char text[CRCTL_MSG_MAX];
};

#define CRCTL_VERSION       _IOR(CRCTL_IOC_TYPE, 1, struct crctl_version)
#define CRCTL_RESTORE_GRANT _IOW(CRCTL_IOC_TYPE, 2, struct crctl_grant)
#define CRCTL_RESTORE_END   _IO(CRCTL_IOC_TYPE, 3)
#define CRCTL_TASK_INFO     _IOWR(CRCTL_IOC_TYPE, 4, struct crctl_task_info)
#define CRCTL_LAST_ERROR    _IOR(CRCTL_IOC_TYPE, 5, struct crctl_message)

/* The context file's magic (libcr/context_format.h CTX_MAGIC), checked by the grant */
#define CRCTL_CTX_MAGIC "SLURMCR-CONTEXT\n"
#define CRCTL_CTX_MAGIC_LEN 16

#endif
