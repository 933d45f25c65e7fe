/* blcr_common.h: the constants and types BLCR 0.8 shares between libcr.h and its tools
 * (version numbers, the checkpoint signal, error codes, scopes, request flags, the
 * restart relocation list).  Included by libcr.h, as BLCR's is; names and values are
 * BLCR's, so code that uses them directly builds unchanged. */
#ifndef _BLCR_COMMON_H
#define _BLCR_COMMON_H 1

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define _CR_DEPRECATED __attribute__((__deprecated__))
#define _CR_EXTENSION __extension__ /* programs built with -pedantic see no warning */
#else
#define _CR_DEPRECATED
#define _CR_EXTENSION
#endif

/* The signal the runtime reserves for checkpoints by default.  Not BLCR's 64: the
 * runtime keeps clear of the ends of the real-time range, which other runtimes use
 * (see cr_run(1)); the environment variable CR_SIGNUM chooses another. */
#define CR_SIGNUM 50

/* The BLCR release whose interface this is. */
#define CR_RELEASE_MAJOR 0
#define CR_RELEASE_MINOR 8
#define CR_RELEASE_PATCH 6
#define CR_RELEASE_VERSION "0.8.6"

/* The library: LIBCR_MAJOR is the number in its soname, libcr.so.0 (numbers, as in
 * BLCR; a string is made with the usual two-level stringify). */
#define LIBCR_MAJOR 0
#define LIBCR_MINOR 0
#define LIBCR_PATCH 0
#define LIBCR_VERSION "0.0.0"

/* Error codes (errno values) from 2354, one per line of blcr_errcodes.h. */
#define CR_ERROR_DEF(name, desc) name,
enum {
    CR_MIN_ERRCODE = 2353,
#include "blcr_errcodes.h"
    CR_MAX_ERRCODE
};
#undef CR_ERROR_DEF

typedef long cr_bool_t;

/* context file formats; this one is slurm-cr's own, whatever the value */
typedef enum { cr_format_vmadump = 0 } cr_format_t;

/* ---- checkpoint requests ---- */

typedef enum {
    CR_SCOPE_PROC, /* the process */
    CR_SCOPE_PGRP, /* its process group */
    CR_SCOPE_SESS, /* its session */
    CR_SCOPE_TREE  /* the process and its descendants */
} cr_scope_t;

/* what a callback passes to cr_checkpoint() */
enum {
    CR_CHECKPOINT_READY = 0,        /* go on */
    CR_CHECKPOINT_TEMP_FAILURE = 1, /* cancel the checkpoint, keep running */
    CR_CHECKPOINT_PERM_FAILURE = 2, /* cancel the checkpoint and end the process */
    CR_CHECKPOINT_OMIT = 4          /* go on, but without this process */
};
#define CR_CHECKPOINT_TEMP_FAILURE_CODE(v) (CR_CHECKPOINT_TEMP_FAILURE | ((v) << 16))
#define CR_CHECKPOINT_PERM_FAILURE_CODE(v) (CR_CHECKPOINT_PERM_FAILURE | ((v) << 16))
#define CR_CHECKPOINT_ABORT_MASK \
    (CR_CHECKPOINT_TEMP_FAILURE | CR_CHECKPOINT_PERM_FAILURE | CR_CHECKPOINT_OMIT)

#define CR_DEST_CWD (-4096)

/* flags of cr_checkpoint_args_t.cr_flags */
#define CR_CHKPT_PROHIBIT_SELF 0x00000001
#define CR_CHKPT_PTRACED_ALLOW 0x00000002
#define CR_CHKPT_PTRACED_SKIP  0x00000004
#define CR_CHKPT_PTRACER_SKIP  0x00000008
#define CR_CHKPT_ASYNC_ERR     0x00000010
#define CR_CHKPT_DUMP_EXEC     0x00000200
#define CR_CHKPT_DUMP_PRIVATE  0x00000400
#define CR_CHKPT_DUMP_SHARED   0x00000800
#define CR_CHKPT_DUMP_ALL (CR_CHKPT_DUMP_EXEC | CR_CHKPT_DUMP_PRIVATE | CR_CHKPT_DUMP_SHARED)

/* ---- restart requests ---- */

/* Paths moved since the checkpoint: files under oldpath are now under newpath. */
struct cr_rstrt_relocate_pair {
    const char *oldpath;
    const char *newpath;
};
struct cr_rstrt_relocate {
    unsigned int count;
    _CR_EXTENSION struct cr_rstrt_relocate_pair path[0]; /* count entries: BLCR's GNU zero-length array */
};
/* bytes to allocate for a list of n entries */
#define CR_RSTRT_RELOCATE_SIZE(n) \
    (sizeof(struct cr_rstrt_relocate) + (n) * sizeof(struct cr_rstrt_relocate_pair))
#define CR_MAX_RSTRT_RELOC 16

/* flags of cr_restart_args_t.cr_flags */
#define CR_RSTRT_ASYNC_ERR    0x00000001 /* errors of the request reported by the reap */
#define CR_RSTRT_RESTORE_PID  0x00000002 /* the old pids */
#define CR_RSTRT_RESTORE_PGID 0x00000004 /* the old process groups */
#define CR_RSTRT_RESTORE_SID  0x00000008 /* the old sessions */

/* cr_hold_ctrl() */
#define CR_HOLD_READ -1
#define CR_HOLD_NONE 0
#define CR_HOLD_CONT 1
#define CR_HOLD_RSTRT 2
#define CR_HOLD_BOTH (CR_HOLD_CONT | CR_HOLD_RSTRT)
#define CR_HOLD_DFLT 4

#ifdef __cplusplus
}
#endif

#endif
