/* The restore plan: everything the restorer needs, prepared by cr_restart (which has
 * libc) and placed in the "hole", a mapping the image does not use, next to the
 * restorer's code and stacks.  Offsets are relative to the plan's own address so the
 * plan is position independent like the restorer. */
#ifndef SLURM_CR_RESTORE_PLAN_H
#define SLURM_CR_RESTORE_PLAN_H

#include <stdint.h>
#include <sys/ucontext.h>

#include "context_format.h"

#define RP_SPECIALS 3              /* vdso, vvar, vvar_vclock */
#define RP_THREAD_STACK 16384

struct rp_vma {
    uint64_t start, end, offset;   /* offset: in the file, bytes */
    uint32_t prot, kind, flags;    /* as in struct ctx_vma */
    int32_t fd;                    /* file mappings: an fd opened by cr_restart */
    uint32_t has_data;
    uint32_t first_guard, nguards; /* its guard page runs in the plan's guards table */
    uint32_t lazy;                 /* mapped empty and registered with the plan's uffd:
                                      cr_restart fills it on demand (restart_lazy.c) */
};

struct rp_block {
    uint64_t addr, file_offset;    /* file_offset: in fd */
    uint32_t npages, crc;
    int32_t fd;                    /* the image, or the memfd of decompressed blocks (whose
                                      pages the restorer frees once copied) */
    uint32_t pad;
};

struct rp_thread {
    /* rt_sigreturn pops nothing: rsp must point at `uc`, just after pretcode. */
    uint64_t pretcode;
    ucontext_t uc;
    uint64_t fs_base, clear_tid;
    char comm[16];
    uint64_t stack_top;            /* for a cloned thread, inside the hole */
    uint64_t rseq_addr;            /* a ptrace image's thread: its rseq area, registered
                                      again before it runs (0: none) */
    uint32_t rseq_len, rseq_sig;
    uint64_t robust_head, robust_len; /* a ptrace image's thread: its robust list (the
                                      runtime sets its own) */
    uint64_t gate;                 /* a ptrace image's thread: &plan->gate_arrived, where it
                                      waits before it runs the program (0: none) */
    int32_t standin_parent;        /* the runtime's thread of a process cr_restart stands
                                      for: SIGKILL when this parent (cr_restart) dies
                                      (PR_SET_PDEATHSIG, a thread's own: the program's
                                      threads keep theirs); 0: none */
    uint32_t pad;
};

struct rp_range {
    uint64_t start, end;
};

/* What a restart leaves in the restored runtime's struct cr_restart_block, right
 * after src (runtime.h checks the place): the regions a lazy restart still fills.  A
 * checkpoint taken meanwhile brings them in first (dump.c): it saves only the pages
 * present, and a page still missing is not a page never touched. */
#define RP_LAZY_RANGES 64
struct rp_lazy_note {
    uint64_t active;               /* set by the restorer; cleared by cr_restart's monitor
                                      (process_vm_writev) once every page is in */
    uint64_t n;
    struct rp_range range[RP_LAZY_RANGES];
};
#define RP_LAZY_NOTE_OFF (3 * 8 + ((CTX_PATH_MAX + 7) & ~7UL))

struct rp_special {                /* move the current kernel's vdso/vvar to the old place */
    uint64_t cur, len, target, park;
};

struct rp_lock {                   /* a POSIX record lock, taken once cr_restart's fds are
                                      closed (a close drops the process's locks on a file) */
    int32_t fd, pad;
    unsigned char flock[32];       /* the kernel's struct flock */
};

struct rp_owner {                  /* an fd whose signals go to a thread other than the first:
                                      its owner once the restorer made that thread */
    int32_t fd;
    uint32_t thread;               /* the thread's index */
};

/* Same layout as the kernel's struct prctl_mm_map. */
struct rp_mm_map {
    uint64_t start_code, end_code, start_data, end_data;
    uint64_t start_brk, brk, start_stack;
    uint64_t arg_start, arg_end, env_start, env_end;
    uint64_t auxv;                 /* pointer, filled in by the restorer */
    uint32_t auxv_size;
    uint32_t exe_fd;
};

/* Bytes the restorer writes over the restored memory (cr_restart checked that they lie
 * in writable memory of the image). */
#define RP_POKES 4              /* a PMIx client's name and note, the pid map (pid_map.h) */
struct rp_poke {
    uint64_t addr;
    uint32_t len, pad;
    unsigned char bytes[528];
};

struct restore_plan {
    uint64_t hole_start, hole_len;
    int32_t ctx_fd, status_fd;
    uint32_t nvmas, nblocks, nthreads, nunmap, nspecial, nclose, nguards;
    uint32_t stop_first;           /* stop (SIGSTOP) before any thread runs the program */
    uint64_t vmas_off, blocks_off, threads_off, unmap_off, close_off; /* from the plan */
    uint64_t guards_off;           /* struct rp_range[nguards], from the plan */
    struct rp_special special[RP_SPECIALS];
    struct rp_mm_map mm;
    uint64_t auxv[64];
    uint64_t runtime_state;        /* address of the runtime's struct cr_restart_block */
    char src[CTX_PATH_MAX];        /* the context file, for cr_get_restart_info() */
    uint64_t nofile[2];            /* RLIMIT_NOFILE (soft, hard), set once cr_restart's fds
                                      are closed: a lower limit may be below their numbers */
    uint32_t set_nofile, nlocks;
    uint64_t locks_off;            /* struct rp_lock[nlocks], from the plan */
    uint32_t nowners, pad2;
    uint64_t owners_off;           /* struct rp_owner[nowners], from the plan */
    int32_t uffd;                  /* lazy restart: the userfaultfd the lazy VMAs are
                                      registered with, cr_restart serving it; -1 none */
    uint32_t use_gate;             /* a ptrace image: every thread counts itself in
                                      gate_arrived, then waits for gate_open, set by
                                      cr_restart once it has put back from outside what
                                      the runtime would (restart_hole.c) */
    uint32_t gate_arrived, gate_open;
    int32_t host_pid;              /* this process as cr_restart's /proc numbers it (a
                                      tree's may be in a pid namespace of its own) */
    uint32_t member;               /* its number in the tree's file (0 alone) */
    /* bytes written over the restored memory before any thread runs (a PMIx client's
       own name and the runtime's note of its link, the new step's: resources/pmix_link.c) */
    uint32_t drop_caps;            /* CAP_CHECKPOINT_RESTORE (root's kept one, or the crctl
                                      module's grant) is dropped by the restorer, once
                                      PR_SET_MM_MAP has set the exe link (mm.exe_fd) */
    uint32_t pad4;
    uint32_t npokes, pad3;
    struct rp_poke pokes[RP_POKES];
};

/* What the restorer tells the waiting parent through status_fd. */
struct rp_status {
    int32_t err;                   /* 0: restored, the process runs */
    char msg[256];
    uint64_t hole_start, hole_len; /* (0) the restorer's own mapping, which the runtime
                                      removes; without one (a ptrace image) cr_restart does */
    uint64_t gate;                 /* the plan's gate_arrived (gate_open after it), or 0 */
    int32_t host_pid;              /* the plan's: which process of a tree says so */
    uint32_t member;
};

#endif
