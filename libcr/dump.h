/* The dumper's shared state and helpers (dump.c: process, threads, memory, writing;
 * dump_record.c: the helpers below; dump_fds.c and resources/: file descriptors).  All
 * of it runs with every other thread parked: no malloc, no stdio, buffers in one
 * scratch mapping. */
#ifndef SLURM_CR_DUMP_H
#define SLURM_CR_DUMP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "context_format.h"
#include "control.h"
#include "dirty_track.h"

/* A listening socket the process had at its start (the runtime's constructor): its
 * launcher's (launcher_sock.c). */
#ifndef CR_LAUNCHER_SOCK_DEFINED
#define CR_LAUNCHER_SOCK_DEFINED
struct cr_launcher_sock {
    int fd;
    uint64_t dev, ino;
};
#endif

#define PAGE 4096UL
#define MiB (1024UL * 1024)

/* The scratch mapping, cut into fixed areas. */
#define SCRATCH_SIZE (144 * MiB)
#define TEXT_OFF     0
#define TEXT_SIZE    (8 * MiB)
#define PAGEMAP_OFF  (8 * MiB)
#define PAGEMAP_SIZE (1 * MiB)
#define BOUNCE_OFF   (9 * MiB)
#define BOUNCE_SIZE  (1 * MiB) /* >= CTX_BLOCK_MAX_PAGES * PAGE */
#define RECS_OFF     (10 * MiB)
#define RECS_SIZE    (22 * MiB)
#define BLOCKS_OFF   (32 * MiB)
#define BLOCKS_SIZE  (24 * MiB)
#define CRCS_OFF     (56 * MiB)
#define CRCS_SIZE    (5 * MiB) /* >= BLOCKS_SIZE / sizeof(struct ctx_block) * 4 + 8 */
#define VMFLAGS_OFF  (61 * MiB)
#define VMFLAGS_SIZE (2 * MiB)
#define STATE_OFF    (63 * MiB) /* struct dump itself, shared with a snapshot child */
#define DIRTY_OFF    (64 * MiB) /* struct cr_page_region[]: written since the parent */
#define DIRTY_SIZE   (16 * MiB)
#define RUNS_OFF     (80 * MiB) /* struct ctx_parent_run[]: what the parent holds */
#define RUNS_SIZE    (16 * MiB)
/* a pre-copy's (precopy.c): what it wrote while the process ran, its regions, a
 * PAGEMAP_SCAN's answer, which blocks are read through a copy */
#define PC_BLOCKS_OFF  (96 * MiB)
#define PC_BLOCKS_SIZE (16 * MiB)
#define PC_REGIONS_OFF (112 * MiB)
#define PC_REGIONS_SIZE (2 * MiB)
#define PC_VEC_OFF     (114 * MiB)
#define PC_VEC_SIZE    (8 * MiB)
#define PC_COPIED_OFF  (122 * MiB)
#define PC_COPIED_SIZE (2 * MiB) /* >= BLOCKS_SIZE / sizeof(struct ctx_block) */
/* /proc/self/maps when the VmFlags were read before the freeze (vmflags_watch.c) */
#define EARLY_MAPS_OFF  (124 * MiB)
#define EARLY_MAPS_SIZE (4 * MiB)
/* a pre-copy's stop: its scan cut in pieces walked by several threads (precopy.c),
 * the pieces then their runs */
#define PC_PIECES_OFF  (128 * MiB)
#define PC_PIECES_SIZE (1 * MiB)
#define PC_PIECE_RUNS_OFF  (129 * MiB)
#define PC_PIECE_RUNS_SIZE (15 * MiB)

#define PM_PRESENT (1ULL << 63)
#define PM_SWAPPED (1ULL << 62)
#define PM_FILE    (1ULL << 61)
#define PM_GUARD   (1ULL << 58)   /* a guard page (MADV_GUARD_INSTALL), on 6.15 and newer */

/* One region of /proc/self/smaps, read in the frozen process: a snapshot child has
 * lost the mlock()s (fork does not copy them) and cannot tell. */
struct vm_region {
    uint64_t start, end;
    uint32_t flags;            /* CTX_VMA_HUGEPAGE... */
    uint32_t nofork;           /* a snapshot child would not see this memory as it is */
    int64_t shmid;             /* an attached System V segment's id, or -1 */
    uint8_t private_map;       /* a private mapping */
    uint8_t special;           /* [vdso], [vvar], [vsyscall]...: the kernel's */
    uint8_t tracked;           /* registered for dirty-page tracking (VmFlags uw) */
    uint8_t file;              /* a file's mapping */
    uint8_t readable;
};

struct dump {
    char *scratch;
    char *msg;
    size_t msglen;
    size_t recs_len;
    uint32_t nrecs;
    struct ctx_block *blocks;
    uint32_t nblocks;
    uint32_t *crcs;
    struct ctx_proc *proc; /* inside the records area */
    int pagemap_fd, mem_fd;
    uint64_t volatile_start[2], volatile_end[2]; /* VMAs that change while we write */
    /* VMAs where a stopped thread waits: its handler's frames (pushed after it said it
     * was parked) below its signal frame may still change while we write, so their
     * blocks are copied before they are checksummed (bit per VMA index) */
    unsigned char parked_stack_vmas[65536 / 8];
    int sync;                  /* fsync the file once written (not CR_CTL_NOSYNC) */
    int pipes_refuse;          /* fail on a pipe or terminal to the outside that is not
                                  stdio (CR_CTL_PIPES_REFUSE) */
    int sockets_refuse;        /* fail on a connection to the outside (CR_CTL_SOCKETS_REFUSE) */
    int step;                  /* a task of a step checkpointed whole (CR_CTL_STEP) */
    const struct cr_launcher_sock *launcher_socks; /* the runtime's: its launcher's
                                  listening sockets the process got at its start */
    uint32_t nlauncher_socks;
    unsigned save;             /* CR_CTL_SAVE_*: file mappings saved whole */
    int ndeleted;              /* files deleted while open, whose contents are saved */
    struct { int fd; uint32_t rec; uint64_t size; } deleted[64];
    char child_msg[512];       /* what a snapshot child says when it fails */
    uint64_t child_bytes;      /* and how much it wrote */
    int child_err;             /* its errno */
    uint32_t released;         /* a tree's snapshot child: 1 the process may run, 2 gave up */
    const struct cr_ctl_prepare *tree; /* one process of a tree: what the requester found */
    unsigned timeout_ms;       /* the request's (-t): bounds the waits inside the dump */
    struct vm_region *regions; /* in the scratch, in address order */
    uint32_t nregions;
    int aio_rings;             /* AIO contexts saved (aio.c): the frozen process writes */
    int zlevel;                /* zstd level (CR_CTL_COMPRESS_LEVEL), 0: not compressed */
    int remote;                /* the ptrace dumper: another process, stopped, read through
                                  proc_dir's files (never our own address space) */
    char proc_dir[32];         /* "/proc/self", or "/proc/PID" */
    uint32_t uid;              /* the header's: the checkpointed process's real uid */
    uint32_t hdr_flags;        /* added to the header's flags (CTX_HDR_PTRACE) */
    int (*aio_ring)(uint64_t start, uint64_t end); /* the runtime's AIO rings (aio.c) */
    /* the runtime's (inotify_replay.c): the inotify events it keeps and serves again;
       NULL in the ptrace dumper, which refuses queued events */
    ssize_t (*inotify_keep)(struct dump *d, int fd, char *out, size_t cap, int32_t *sentinel,
                            uint32_t *nevents);
    size_t (*inotify_held)(int fd);
    /* the runtime's (tcp_held.c): TCP bytes behind a FIN it holds and serves; NULL in
       the ptrace dumper, which refuses them */
    int (*tcp_hold)(int fd, const char *data, size_t len);
    /* the runtime's (mq_notify_track.c): the sigevent of the process's registration on
       the queue of that inode, 0 or -1 if it made none it saw */
    int (*mq_notify_of)(uint64_t dev, uint64_t ino, struct ctx_mq_notify *note);
    /* the runtime's (dnotify_track.c): the mask the program registered with F_NOTIFY on
       fd, the directory dev/ino: 0, or -1 none seen */
    int (*dnotify_of)(int fd, uint64_t dev, uint64_t ino, uint32_t *mask);
    size_t (*tcp_held)(int fd, const char **data);
    /* the runtime's, before a VMA's pages are looked at: the pages a lazy restart of
     * this process has not filled yet brought in (dump.c) */
    int (*before_pages)(struct dump *d, const struct ctx_vma *v);
    /* the pre-copy's (precopy.c): the pages of [start, end) as runs of pages present,
     * swapped or guards, in order (*runs, *n: those that meet the range), from what it
     * asked the kernel at the stop (a kernel that reports guard pages), 1; 0 when it
     * has none (the page map is read then, page by page) */
    int (*page_runs)(struct dump *d, uint64_t start, uint64_t end, const struct cr_page_region **runs,
                     uint32_t *n);
    /* an incremental image (dirty_track.c, dump_incremental.c) */
    int incr;                  /* its clean pages are its parent's */
    struct cr_track_parent parent;
    const struct cr_page_region *dirty; /* the pages written since, in address order */
    uint32_t ndirty, dirty_pos;
    struct ctx_parent_run *runs;        /* in the scratch */
    uint32_t nruns;
    uint32_t out_header_crc;   /* the written file's header: it may become a parent */
    uint64_t out_created_ns;
};



/* aio.c: the process's AIO contexts, their requests in flight waited for (0 or -errno
 * with the message in d); whether a ring is one of them; their records. */
int cr_aio_freeze(struct dump *d);
int cr_aio_ring(uint64_t start, uint64_t end);
int cr_aio_records(struct dump *d);

int fail(struct dump *d, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
ssize_t read_file(struct dump *d, const char *path, char *buf, size_t cap);
void *rec_add(struct dump *d, uint32_t type, size_t len);
void file_id_of(const struct stat *st, struct ctx_file_id *id);
/* A new fd record with the fd's flags, a path (or description) and room for extra. */
struct ctx_fd *fd_record(struct dump *d, int fd, uint32_t kind, const char *path, size_t extra);
/* Gives back the part of the last record's extra it did not use. */
void fd_record_trim(struct dump *d, struct ctx_fd *r, size_t extra);
/* dump_record.c: one fd saved by its kind (resources/), with its locks, owner and
 * socket attachments; s is the kinds' scan (resources.h). */
struct fd_scan;
int cr_dump_one_fd(struct dump *d, struct fd_scan *s, int fd);
/* dump_fds.c: every fd of the process, each saved by its kind (resources/). */
int collect_fds(struct dump *d);
/* resources/file.c: the blocks of deleted file number i's contents (d->deleted), its
 * holes left out; reading them (0, or -errno with the message in d). */
int deleted_file_blocks(struct dump *d, int i);
int deleted_file_read(struct dump *d, int i, void *buf, size_t len, uint64_t off);
/* resources/file.c: the working directory, deleted (getcwd: ENOENT): its path as it was
 * into cwd and its mode; then its record, after the process record. */
int deleted_cwd(struct dump *d, char *cwd, size_t cap, uint32_t *mode);
int deleted_cwd_record(struct dump *d, uint32_t mode);

/* dump_memory.c: the regions' VmFlags (d->proc_dir's smaps) into d->regions; those of
 * the region holding addr; how a mapping (a line of maps) is saved; the pages of VMA
 * number vma that go into the image, as blocks (each 0 or -errno with the message). */
int cr_dump_regions(struct dump *d);
/* vmflags_watch.c: the regions' VmFlags read before the freeze, the program running
 * (smaps walks every page table entry: tens of milliseconds a gigabyte, out of the
 * stop), into a scratch's VMFLAGS area, with what would show they changed since. */
struct vmflags_early {
    uint32_t nregions;         /* read (0: not) */
    uint64_t changes;          /* cr_vmflags_changes then */
    size_t maps_len;           /* /proc/self/maps then, at EARLY_MAPS_OFF */
    uint64_t vm_lck;           /* VmLck then */
};
void cr_vmflags_read_early(char *scratch, struct vmflags_early *e);
/* Frozen, in cr_dump_begin: those VmFlags into d (1) when nothing could have changed
 * them since: /proc/self/maps the same, no madvise, mlock or munlock through libc, the
 * same VmLck; else 0 (cr_dump_regions reads smaps then).  d->scratch must be the one
 * they were read into. */
int cr_vmflags_take_early(struct dump *d, const struct vmflags_early *e);
/* A field of /proc/self/status in bytes ("\nRssAnon:"), 0 if not there. */
uint64_t cr_status_bytes(const char *field);
uint32_t cr_dump_region_flags(const struct dump *d, uint64_t addr);
int cr_dump_classify_vma(struct dump *d, struct ctx_vma *v, char shared, unsigned dmaj, unsigned dmin,
                         unsigned long long ino, const char *path);
int cr_dump_pages(struct dump *d, struct ctx_vma *v, uint32_t vma);
/* dump_write.c: the whole file, uncompressed, the length in *bytes. */
int cr_dump_write_plain(struct dump *d, int fd, uint64_t *bytes);
/* dump.c: the memory's records and blocks (cr_dump_finish's first half: the VMAs,
 * their pages, deleted files' contents, an incremental image's runs), with
 * /proc/self/pagemap and mem open until cr_dump_close_proc. */
int cr_dump_collect(struct dump *d);
void cr_dump_close_proc(struct dump *d);
/* dump_write.c, for the pre-copy: the header, records and trailer of a pre-copied image
 * (CTX_HDR_PRECOPY) whose blocks are at their file_offset with their crc in d->crcs,
 * in [data_offset, data_end).  Made frozen (seal: 1 when the records do not fit
 * before data_offset, nothing made, the BLOCKS record taken back), written once the
 * program runs again (write_sealed: they are in the scratch, nothing is read from the
 * process; no fsync). */
int cr_pwrite_all(int fd, const void *buf, size_t len, uint64_t off); /* 0 or -errno */
int cr_dump_seal_precopied(struct dump *d, uint64_t data_offset, uint64_t data_end);
int cr_dump_write_sealed(struct dump *d, int fd, uint64_t *bytes);

/* dump_write.c, for the compressing writer: which blocks are read through a copy (one byte
 * each), a block's bytes (in place or copied into bounce; -errno, and thread-safe), the
 * header of d's layout, the records' checksums. */
void cr_dump_copied_blocks(struct dump *d, unsigned char *copied);
int cr_dump_block_bytes(struct dump *d, const struct ctx_block *b, int copied, char *bounce,
                        const void **src);
void cr_dump_header(struct dump *d, struct ctx_header *h);
void cr_dump_seal(struct dump *d);
/* dump_incremental.c: whether the pages of v from addr are written since the parent
 * (1) or the parent's (0) (only for a region the parent has: dump_incremental_region);
 * a run of the parent's; the PARENT and PARENT_PAGES records (their checksums read
 * from memory), before BLOCKS. */
int dump_incremental_region(struct dump *d, const struct ctx_vma *v, uint32_t vma);
int dump_page_dirty(struct dump *d, uint64_t addr);
int dump_add_parent_run(struct dump *d, uint64_t addr, uint32_t npages, uint32_t vma);
int dump_parent_records(struct dump *d);
/* dump_compress.c: writes the file with its blocks compressed (d->zlevel) on several
 * threads; the file's length in *bytes. */
int cr_dump_write_compressed(struct dump *d, int fd, uint64_t *bytes);

/* A system call without errno (which threads sharing one TLS must not touch): the
 * result, or -errno. */
static inline long cr_raw_syscall6(long n, long a, long b, long c, long d, long e, long f)
{
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

#endif
