/* The strict reader of context files: every length, offset, count and checksum is
 * checked before use, and a refusal says exactly what is wrong. */
#ifndef SLURM_CR_CONTEXT_READER_H
#define SLURM_CR_CONTEXT_READER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "context_format.h"

struct ctx_image {
    int fd;
    uint64_t base;                     /* where the image starts in the file (trees) */
    int borrowed_fd;                   /* fd belongs to the tree */
    uint64_t file_size;                /* the image's length */
    struct ctx_header hdr;
    char *meta;                        /* the metadata records, as read */
    const struct ctx_proc *proc;
    const char *exe, *cwd;
    const struct ctx_deleted_dir *cwd_deleted; /* the working directory was deleted */
    const struct ctx_stopped *stopped; /* it was stopped at the checkpoint: stops again */
    const struct ctx_pid_map *pid_map; /* the runtime's table of the pids the program
                                          knows (pairs right after it), or NULL */
    const struct ctx_thread **threads;
    const struct ctx_thread_regs **regs; /* CTX_HDR_PTRACE: each thread's, else NULLs */
    const struct ctx_pending **pending;  /* CTX_HDR_PTRACE: signals pending, in file order */
    uint32_t npending;
    const struct ctx_fd **fds;
    const struct ctx_lock **locks;     /* the file locks the process holds */
    uint32_t nlocks;
    const struct ctx_epoll_file **epoll_files; /* epoll targets added through another fd */
    uint32_t nepoll_files;
    const struct ctx_fd_owner **owners;        /* fds whose signals go to an owner */
    uint32_t nowners;
    const struct ctx_dnotify **dnotifies;      /* directories watched with dnotify */
    uint32_t ndnotifies;
    const struct ctx_sock_attach **attached;   /* sockets' filters and memberships */
    uint32_t nattached;
    const struct ctx_vma **vmas;
    const struct ctx_aio **aios;       /* the AIO contexts, after the VMAs */
    uint32_t naios;
    const struct ctx_block *blocks;
    uint32_t *crcs;                    /* one per block */
    /* a compressed image (CTX_HDR_COMPRESSED): how each block is stored, the sums */
    const struct ctx_block_zstd *zblocks;
    uint64_t raw_bytes, stored_bytes;  /* the blocks' memory, and what they take in the file */
    /* ctx_unpack: the compressed blocks' memory in memfd unpack_fd, block i at
     * unpack_off[i] (NULL until then) */
    int unpack_fd;
    uint64_t *unpack_off;
    /* an incremental image (CTX_HDR_INCREMENTAL): its parent, named relative to dir */
    const struct ctx_parent *parent;
    const char *parent_name;
    const struct ctx_parent_run *runs; /* memory the parent holds, nruns of them */
    uint32_t nruns;
    struct ctx_chain *chain;           /* ctx_chain_open: the images it takes pages from */
};

/* Where block i's memory can be read whole (npages pages): the image itself, or where
 * ctx_unpack put it once decompressed. */
static inline void ctx_block_source(const struct ctx_image *img, uint32_t i, int *fd, uint64_t *off)
{
    if (img->zblocks && img->zblocks[i].stored_len && img->unpack_off) {
        *fd = img->unpack_fd;
        *off = img->unpack_off[i];
    } else {
        *fd = img->fd;
        *off = img->base + img->blocks[i].file_offset;
    }
}

/* context_block.c: block i read whole into buf (npages pages), from wherever it is
 * (decompressed here if need be), its checksums checked; 0, or -errno and err. */
int ctx_read_block(const struct ctx_image *img, uint32_t i, void *buf, char *err, size_t errlen);
/* context_block.c: len bytes of fd at off, whole: 0, or -errno (-EIO at the end of the
 * file); the reader's, the unpacker's and the blocks' one read. */
int ctx_read_at(int fd, void *buf, size_t len, uint64_t off);

/* context_chain.c: an incremental image's chain.  ctx_chain_open opens and checks
 * every image above img, read from path (its parent named relative to the directory
 * of the file path leads to): each must be the very file its child was made from.  ctx_chain_resolve turns img's runs
 * of the parent's memory into pieces, each npages read from (fd, off) and checked
 * against crc (compressed images of the chain decompressed first, ctx_unpack);
 * ctx_chain_verify reads them all too.  0, or -errno with a message in err. */
struct ctx_piece {
    uint64_t addr, off;
    uint32_t npages, crc;
    int32_t fd;
    uint32_t vma;
};
struct ctx_chain {
    uint32_t n;                        /* images[0] the parent, images[n - 1] a full one */
    struct ctx_image images[CTX_CHAIN_MAX];
    char *paths[CTX_CHAIN_MAX];
    struct ctx_piece *pieces;
    uint32_t npieces;
};
int ctx_chain_open(struct ctx_image *img, const char *path, char *err, size_t errlen);
int ctx_chain_resolve(struct ctx_image *img, char *err, size_t errlen);
int ctx_chain_verify(struct ctx_image *img, char *err, size_t errlen);
void ctx_chain_close(struct ctx_image *img);
/* context_merge.c: img (its chain open) written to fd as one full image, raw, every
 * block checked as it is read; its length into bytes.  0, or -errno with err. */
int ctx_merge(struct ctx_image *img, int fd, uint64_t *bytes, char *err, size_t errlen);

/* context_unpack.c: decompresses every compressed block of img on several threads,
 * checking the stored bytes' checksum, the frame and the memory's checksum, into a
 * memfd that ctx_block_source then names (nothing to do for an image without
 * compression).  0, or -errno with a message in err. */
int ctx_unpack(struct ctx_image *img, char *err, size_t errlen);
/* The same checks without keeping the memory (ctx_verify_data, compressed blocks). */
int ctx_unpack_verify(struct ctx_image *img, char *err, size_t errlen);

/* Opens and validates the file's structure (header, records, trailer), not the memory
 * data.  On failure returns -errno with a message in err; img needs no ctx_close. */
int ctx_open(const char *path, struct ctx_image *img, char *err, size_t errlen);

/* A file of one process, or of a tree: every process's record, and the image of
 * each live one (zombies have none: images[i].proc is NULL). */
struct ctx_tree {
    int fd;
    uint64_t file_size;
    struct ctx_header hdr;             /* a single process's file: its own header */
    uint32_t n;
    struct ctx_tree_proc *procs;
    struct ctx_image *images;
};

/* Opens either kind, checking everything ctx_open checks for each image. */
int ctx_tree_open(const char *path, struct ctx_tree *t, char *err, size_t errlen);
void ctx_tree_close(struct ctx_tree *t);

/* context_describe.c: one line on out for every fd that leads outside the checkpoint
 * (a disconnected pipe or terminal, a reset connection): how it comes back. */
void ctx_say_outside(const struct ctx_tree *t, FILE *out, const char *prog);
/* context_describe.c: how much a compressed image's blocks take against their memory,
 * in words; 0 (buf untouched) for an image without compression. */
int ctx_describe_compression(const struct ctx_image *img, char *buf, size_t len);

/* Reads every memory block and checks its checksum. */
int ctx_verify_data(struct ctx_image *img, char *err, size_t errlen);

void ctx_close(struct ctx_image *img);

const char *ctx_vma_kind_name(uint32_t kind);
/* The guard page runs of a region read by ctx_open (CTX_VMA_GUARDS): how many, and
 * where they start in its record. */
uint32_t ctx_vma_guards(const struct ctx_vma *v, const struct ctx_range **runs);
/* The fd kinds, from their table (resources/resources.c): a kind's name; whether a
 * record whose framing the reader checked is well formed (its kind's validator, with
 * the process's earlier fd records; 0 for a kind without one); its line for cr_info;
 * how an fd that led outside the checkpoint comes back (NULL: it did not). */
const char *ctx_fd_kind_name(uint32_t kind);
int ctx_fd_record_ok(const struct ctx_fd *f, const struct ctx_fd *const *earlier, uint32_t n);
void ctx_fd_describe(const struct ctx_fd *f, FILE *out);
const char *ctx_fd_outside(const struct ctx_fd *f);
/* resources/sock_attach.c: whether a socket's filter or membership record (length
 * bytes) is well formed, for the fd record f it follows; its line for cr_info. */
int ctx_sock_attach_ok(const struct ctx_sock_attach *a, uint32_t length, const struct ctx_fd *f);
void ctx_sock_attach_describe(const struct ctx_sock_attach *a, FILE *out);

#endif
