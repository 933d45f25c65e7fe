#define _GNU_SOURCE
#include "context_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32c.h"

#define PAGE 4096ULL
#define USER_TOP 0x800000000000ULL
#define MAX_THREADS 4096
#define MAX_FDS (1 << 20)

static int refuse(char *err, size_t len, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int refuse(char *err, size_t len, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return -code;
}

static int read_at(int fd, void *buf, size_t len, uint64_t off)
{
    char *b = buf;
    while (len) {
        ssize_t n = pread(fd, b, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -EIO;
        b += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

const char *ctx_vma_kind_name(uint32_t kind)
{
    static const char *const names[] = { "?", "anon", "file-private", "file-shared",
                                         "shared-anon", "vdso", "vvar", "vvar_vclock", "vsyscall" };
    return kind < sizeof names / sizeof *names ? names[kind] : "?";
}

const char *ctx_fd_kind_name(uint32_t kind)
{
    static const char *const names[] = { "?", "file", "dir", "device", "inherit", "pipe",
                                         "eventfd", "epoll", "socket", "unixpair", "listen",
                                         "timerfd", "signalfd", "fifo", "dup" };
    return kind < sizeof names / sizeof *names ? names[kind] : "?";
}

static const char *rec_name(uint32_t type)
{
    static const char *const names[] = { "?", "process", "thread", "fd", "memory map",
                                         "block table", "block checksums", "end" };
    return type < sizeof names / sizeof *names ? names[type] : "unknown";
}

/* A string at the end of a record's payload: exactly `len` bytes, NUL only at the end. */
static int check_tail(const void *rec, size_t fixed, uint32_t len, uint32_t payload, int allow_empty)
{
    if (len == 0)
        return allow_empty;
    if (fixed + len > payload)
        return 0;
    const char *s = (const char *)rec + fixed;
    return memchr(s, 0, len) == s + len - 1;
}

static int check_header(const struct ctx_header *h, uint64_t size, char *err, size_t len)
{
    if (memcmp(h->magic, CTX_MAGIC, CTX_MAGIC_LEN))
        return refuse(err, len, EINVAL, "not a slurm-cr context file (bad magic)");
    if (h->version > CTX_VERSION)
        return refuse(err, len, ENOTSUP, "made by a newer slurm-cr (format version %u); this "
                      "one reads version %u: restart it with that release", h->version, CTX_VERSION);
    if (h->version != CTX_VERSION)
        return refuse(err, len, EINVAL, "unknown format version %u", h->version);
    if (h->header_size != sizeof *h)
        return refuse(err, len, EINVAL, "header size %u, expected %zu", h->header_size, sizeof *h);
    if (crc32c(0, h, offsetof(struct ctx_header, header_crc)) != h->header_crc || h->pad)
        return refuse(err, len, EBADMSG, "checksum mismatch in the header");
    if (h->arch != CTX_ARCH_X86_64)
        return refuse(err, len, ENOEXEC, "made on another architecture (ELF machine %u); this is "
                      "x86_64", h->arch);
    if (h->page_size != (uint32_t)sysconf(_SC_PAGESIZE))
        return refuse(err, len, ENOEXEC, "made with %u-byte pages; this system uses %ld",
                      h->page_size, sysconf(_SC_PAGESIZE));
    if (!memchr(h->kernel_release, 0, sizeof h->kernel_release) ||
        !memchr(h->glibc_version, 0, sizeof h->glibc_version))
        return refuse(err, len, EBADMSG, "malformed header strings");
    if (h->nproc != 1 || h->scope < CTX_SCOPE_PROC || h->scope > CTX_SCOPE_TREE)
        return refuse(err, len, EBADMSG, "header: %u processes with scope %u", h->nproc, h->scope);
    if (h->records_offset != sizeof *h || h->records_length > size ||
        h->records_offset + h->records_length > size)
        return refuse(err, len, EIO, "truncated: the metadata needs %llu bytes, the file has %llu",
                      (unsigned long long)(h->records_offset + h->records_length),
                      (unsigned long long)size);
    if (h->data_offset % PAGE || h->data_offset < h->records_offset + h->records_length ||
        h->data_offset - (h->records_offset + h->records_length) >= PAGE ||
        h->data_length % PAGE || h->data_length > size ||
        h->trailer_offset != h->data_offset + h->data_length || h->trailer_offset > size)
        return refuse(err, len, EIO, "truncated or malformed: data at %llu+%llu, trailer at %llu, "
                      "file size %llu", (unsigned long long)h->data_offset,
                      (unsigned long long)h->data_length, (unsigned long long)h->trailer_offset,
                      (unsigned long long)size);
    if (h->nblocks > h->data_length / PAGE)
        return refuse(err, len, EBADMSG, "header: %u blocks in %llu bytes", h->nblocks,
                      (unsigned long long)h->data_length);
    return 0;
}

/* Walks the metadata records and checks each one's framing and checksum. */
static int parse_records(struct ctx_image *img, char *err, size_t len)
{
    const struct ctx_header *h = &img->hdr;
    uint64_t off = 0, end = h->records_length;
    uint32_t seq = 0, nthreads = 0, nfds = 0, nvmas = 0;
    const struct ctx_proc *p = NULL;
    int have_blocks = 0;
    while (off < end) {
        if (end - off < sizeof(struct ctx_rec))
            return refuse(err, len, EIO, "truncated at record %u", seq);
        struct ctx_rec *r = (struct ctx_rec *)(img->meta + off);
        if (r->length > end - off - sizeof *r || r->length % 8)
            return refuse(err, len, EIO, "truncated at record %u (%s): length %u", seq,
                          rec_name(r->type), r->length);
        if (r->seq != seq)
            return refuse(err, len, EBADMSG, "record %u is numbered %u", seq, r->seq);
        if (crc32c(crc32c(0, r, 12), r + 1, r->length) != r->crc)
            return refuse(err, len, EBADMSG, "checksum mismatch in record %u (%s)", seq,
                          rec_name(r->type));
        void *pl = r + 1;
        switch (r->type) {
        case CTX_REC_PROC:
            if (p || r->length < sizeof *p)
                return refuse(err, len, EBADMSG, "record %u: unexpected process record", seq);
            p = pl;
            if (p->nthreads < 1 || p->nthreads > MAX_THREADS || p->nfds > MAX_FDS ||
                p->nvmas > 65536 * 4 || p->auxv_words > CTX_AUXV_MAX ||
                p->nblocks != h->nblocks || p->first_block != 0 || p->exe_len == 0 ||
                !check_tail(p, sizeof *p, p->exe_len, r->length, 0) ||
                !check_tail(p, sizeof *p + p->exe_len, p->cwd_len, r->length, 0) ||
                p->cwd_len == 0 || !memchr(p->comm, 0, sizeof p->comm))
                return refuse(err, len, EBADMSG, "record %u: malformed process record", seq);
            img->proc = p;
            img->exe = (const char *)(p + 1);
            img->cwd = img->exe + p->exe_len;
            img->threads = calloc(p->nthreads, sizeof *img->threads);
            img->fds = calloc(p->nfds + 1, sizeof *img->fds);
            img->vmas = calloc(p->nvmas + 1, sizeof *img->vmas);
            if (!img->threads || !img->fds || !img->vmas)
                return refuse(err, len, ENOMEM, "out of memory");
            break;
        case CTX_REC_THREAD: {
            const struct ctx_thread *t = pl;
            if (!p || nthreads >= p->nthreads || nfds || nvmas || r->length < sizeof *t ||
                t->index != nthreads || !memchr(t->comm, 0, sizeof t->comm))
                return refuse(err, len, EBADMSG, "record %u: unexpected thread record", seq);
            img->threads[nthreads++] = t;
            break;
        }
        case CTX_REC_FD: {
            const struct ctx_fd *f = pl;
            if (!p || nthreads != p->nthreads || nfds >= p->nfds || nvmas || r->length < sizeof *f ||
                f->fd < 0 || f->fd >= MAX_FDS || f->kind < CTX_FD_FILE || f->kind > CTX_FD_DUP ||
                (f->kind == CTX_FD_INHERIT && (f->source_fd < 0 || f->source_fd > 2)) ||
                (f->kind == CTX_FD_DUP && (f->source_fd < 0 || f->source_fd >= f->fd)) ||
                !check_tail(f, sizeof *f, f->path_len, r->length, 0) ||
                f->extra_len > r->length - sizeof *f - f->path_len ||
                (f->extra_len && f->kind != CTX_FD_PIPE && f->kind != CTX_FD_FIFO && f->kind != CTX_FD_EPOLL &&
                 f->kind != CTX_FD_UNIX_PAIR && f->kind != CTX_FD_LISTEN && f->kind != CTX_FD_TIMERFD) ||
                (f->kind == CTX_FD_TIMERFD && f->extra_len != sizeof(struct ctx_timerfd)) ||
                (f->kind == CTX_FD_LISTEN && (f->extra_len < 2 || f->extra_len > 128)) ||
                (f->kind == CTX_FD_UNIX_PAIR && f->extra_len > (64u << 20)) ||
                (f->kind == CTX_FD_EPOLL && f->extra_len % sizeof(struct ctx_epoll_target)) ||
                ((f->kind == CTX_FD_PIPE || f->kind == CTX_FD_FIFO) &&
                 (f->pos == 0 || f->pos > (64u << 20) || f->extra_len > f->pos)) ||
                (f->kind == CTX_FD_FIFO && ((const char *)(f + 1))[0] != '/') ||
                (nfds && f->fd <= img->fds[nfds - 1]->fd))
                return refuse(err, len, EBADMSG, "record %u: malformed fd record", seq);
            img->fds[nfds++] = f;
            break;
        }
        case CTX_REC_VMA: {
            const struct ctx_vma *v = pl;
            if (!p || nfds != p->nfds || nthreads != p->nthreads || nvmas >= p->nvmas ||
                r->length < sizeof *v || v->start % PAGE || v->end % PAGE || v->start >= v->end ||
                (v->end > USER_TOP && v->kind != CTX_VMA_VSYSCALL) || v->prot > 7 ||
                v->kind < CTX_VMA_ANON || v->kind > CTX_VMA_VSYSCALL || v->pgoff % PAGE ||
                (nvmas && v->start < img->vmas[nvmas - 1]->end) ||
                !check_tail(v, sizeof *v, v->path_len, r->length,
                            v->kind != CTX_VMA_FILE_PRIVATE && v->kind != CTX_VMA_FILE_SHARED) ||
                ((v->kind == CTX_VMA_FILE_PRIVATE || v->kind == CTX_VMA_FILE_SHARED) &&
                 ((const char *)(v + 1))[0] != '/'))
                return refuse(err, len, EBADMSG, "record %u: malformed memory map entry", seq);
            img->vmas[nvmas++] = v;
            break;
        }
        case CTX_REC_BLOCKS:
            if (!p || have_blocks || nvmas != p->nvmas ||
                r->length != ((h->nblocks * sizeof(struct ctx_block) + 7) & ~7UL))
                return refuse(err, len, EBADMSG, "record %u: malformed block table", seq);
            img->blocks = pl;
            have_blocks = 1;
            break;
        default:
            return refuse(err, len, EBADMSG, "record %u has unknown type %u", seq, r->type);
        }
        off += sizeof *r + r->length;
        seq++;
    }
    if (!p || !have_blocks || seq != h->nrecords)
        return refuse(err, len, EIO, "truncated at record %u: the metadata is incomplete", seq);
    return 0;
}

/* The bytes between the metadata and the first memory block must be zero: no byte of
 * the file escapes a check. */
static int check_padding(struct ctx_image *img, char *err, size_t len)
{
    const struct ctx_header *h = &img->hdr;
    uint64_t from = h->records_offset + h->records_length;
    char pad[PAGE];
    size_t n = (size_t)(h->data_offset - from);
    if (read_at(img->fd, pad, n, from) < 0)
        return refuse(err, len, EIO, "truncated before the memory data");
    for (size_t i = 0; i < n; i++)
        if (pad[i])
            return refuse(err, len, EBADMSG, "garbage at offset %llu, before the memory data",
                          (unsigned long long)(from + i));
    return 0;
}

static const struct ctx_vma *vma_at(const struct ctx_image *img, uint64_t addr)
{
    for (uint32_t i = 0; i < img->proc->nvmas; i++)
        if (addr >= img->vmas[i]->start && addr < img->vmas[i]->end)
            return img->vmas[i];
    return NULL;
}

/* Cross-checks: blocks inside their maps, in file order; threads resume in memory. */
static int check_consistency(struct ctx_image *img, char *err, size_t len)
{
    const struct ctx_header *h = &img->hdr;
    uint64_t off = h->data_offset;
    int files = 0;
    for (uint32_t i = 0; i < h->nblocks; i++) {
        const struct ctx_block *b = &img->blocks[i];
        if (b->vma & CTX_BLOCK_FILE) { /* a deleted file's contents, after all memory */
            uint32_t r = b->vma & ~CTX_BLOCK_FILE;
            const struct ctx_fd *f = r < img->proc->nfds ? img->fds[r] : NULL;
            if (!f || f->kind != CTX_FD_FILE || !(f->flags & CTX_FD_DELETED) || b->npages == 0 ||
                b->npages > CTX_BLOCK_MAX_PAGES || b->addr % PAGE || b->addr >= f->id.size ||
                b->file_offset != off)
                return refuse(err, len, EBADMSG, "block %u of a deleted file's contents is malformed", i);
            files = 1;
            off += (uint64_t)b->npages * PAGE;
            continue;
        }
        if (files)
            return refuse(err, len, EBADMSG, "memory block %u comes after file contents", i);
        if (b->vma >= img->proc->nvmas || b->npages == 0 || b->npages > CTX_BLOCK_MAX_PAGES ||
            b->addr % PAGE || b->file_offset != off)
            return refuse(err, len, EBADMSG, "memory block %u is malformed", i);
        const struct ctx_vma *v = img->vmas[b->vma];
        if (b->addr < v->start || b->addr + (uint64_t)b->npages * PAGE > v->end ||
            (v->kind != CTX_VMA_ANON && v->kind != CTX_VMA_SHARED_ANON &&
             v->kind != CTX_VMA_FILE_PRIVATE && !(v->flags & CTX_VMA_SAVED)) ||
            (i && b->addr < img->blocks[i - 1].addr + (uint64_t)img->blocks[i - 1].npages * PAGE))
            return refuse(err, len, EBADMSG, "memory block %u at 0x%llx lies outside its map", i,
                          (unsigned long long)b->addr);
        off += (uint64_t)b->npages * PAGE;
    }
    if (off != h->trailer_offset)
        return refuse(err, len, EBADMSG, "memory blocks cover %llu bytes, the header says %llu",
                      (unsigned long long)(off - h->data_offset), (unsigned long long)h->data_length);
    for (uint32_t i = 0; i < img->proc->nthreads; i++) {
        const struct ctx_thread *t = img->threads[i];
        if (!vma_at(img, t->resume.rip) || !vma_at(img, t->resume.rsp - 8) || t->resume.rsp % 8)
            return refuse(err, len, EBADMSG, "thread %d resumes outside the saved memory", t->tid);
    }
    return 0;
}

static int read_trailer(struct ctx_image *img, char *err, size_t len)
{
    const struct ctx_header *h = &img->hdr;
    struct ctx_rec r;
    uint64_t off = h->trailer_offset;
    uint32_t seq = h->nrecords;
    size_t crcs_len = (h->nblocks * 4 + 7) & ~7UL;
    if (img->file_size - off < sizeof r + crcs_len || read_at(img->fd, &r, sizeof r, off) < 0)
        return refuse(err, len, EIO, "truncated at record %u (block checksums)", seq);
    if (r.type != CTX_REC_BLOCK_CRCS || r.seq != seq || r.length != crcs_len)
        return refuse(err, len, EBADMSG, "record %u: malformed block checksums", seq);
    img->crcs = malloc(crcs_len ? crcs_len : 1);
    if (!img->crcs)
        return refuse(err, len, ENOMEM, "out of memory");
    if (read_at(img->fd, img->crcs, crcs_len, off + sizeof r) < 0)
        return refuse(err, len, EIO, "truncated at record %u (block checksums)", seq);
    if (crc32c(crc32c(0, &r, 12), img->crcs, crcs_len) != r.crc)
        return refuse(err, len, EBADMSG, "checksum mismatch in record %u (block checksums)", seq);
    off += sizeof r + crcs_len;
    struct {
        struct ctx_rec r;
        struct ctx_end e;
    } end;
    if (img->file_size - off < sizeof end || read_at(img->fd, &end, sizeof end, off) < 0)
        return refuse(err, len, EIO, "truncated at record %u (end)", seq + 1);
    if (end.r.type != CTX_REC_END || end.r.seq != seq + 1 || end.r.length != sizeof end.e ||
        crc32c(crc32c(0, &end.r, 12), &end.e, sizeof end.e) != end.r.crc)
        return refuse(err, len, EBADMSG, "record %u: malformed end record", seq + 1);
    if (end.e.file_length != img->file_size || end.e.nblocks != h->nblocks)
        return refuse(err, len, EBADMSG, "the file is %llu bytes long; it should be %llu",
                      (unsigned long long)img->file_size, (unsigned long long)end.e.file_length);
    return 0;
}

int ctx_open(const char *path, struct ctx_image *img, char *err, size_t len)
{
    memset(img, 0, sizeof *img);
    img->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (img->fd < 0)
        return refuse(err, len, errno, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(img->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        ctx_close(img);
        return refuse(err, len, EINVAL, "%s is not a regular file", path);
    }
    img->file_size = (uint64_t)st.st_size;
    int rc;
    if (img->file_size < sizeof img->hdr) {
        rc = img->file_size >= CTX_MAGIC_LEN || img->file_size == 0 ? 0 : 1;
        char magic[CTX_MAGIC_LEN];
        if (img->file_size >= CTX_MAGIC_LEN && read_at(img->fd, magic, sizeof magic, 0) == 0 &&
            !memcmp(magic, CTX_MAGIC, CTX_MAGIC_LEN))
            rc = refuse(err, len, EIO, "truncated in the header (%llu bytes)",
                        (unsigned long long)img->file_size);
        else
            rc = refuse(err, len, EINVAL, "not a slurm-cr context file (%llu bytes, no header)",
                        (unsigned long long)img->file_size);
        ctx_close(img);
        return rc;
    }
    rc = read_at(img->fd, &img->hdr, sizeof img->hdr, 0);
    if (rc == 0)
        rc = check_header(&img->hdr, img->file_size, err, len);
    if (rc == 0) {
        img->meta = malloc(img->hdr.records_length + 1);
        if (!img->meta)
            rc = refuse(err, len, ENOMEM, "out of memory for %llu bytes of metadata",
                        (unsigned long long)img->hdr.records_length);
        else if (read_at(img->fd, img->meta, img->hdr.records_length, img->hdr.records_offset) < 0)
            rc = refuse(err, len, EIO, "cannot read the metadata: %s", strerror(errno));
    }
    if (rc == 0)
        rc = parse_records(img, err, len);
    if (rc == 0)
        rc = check_padding(img, err, len);
    if (rc == 0)
        rc = read_trailer(img, err, len);
    if (rc == 0)
        rc = check_consistency(img, err, len);
    if (rc < 0)
        ctx_close(img);
    return rc;
}

int ctx_verify_data(struct ctx_image *img, char *err, size_t len)
{
    size_t cap = CTX_BLOCK_MAX_PAGES * PAGE;
    char *buf = malloc(cap);
    if (!buf)
        return refuse(err, len, ENOMEM, "out of memory");
    int rc = 0;
    for (uint32_t i = 0; i < img->hdr.nblocks && rc == 0; i++) {
        const struct ctx_block *b = &img->blocks[i];
        size_t n = (size_t)b->npages * PAGE;
        if (read_at(img->fd, buf, n, b->file_offset) < 0)
            rc = refuse(err, len, EIO, "cannot read the memory block at 0x%llx",
                        (unsigned long long)b->addr);
        else if (crc32c(0, buf, n) != img->crcs[i])
            rc = refuse(err, len, EBADMSG, "checksum mismatch in memory block at 0x%llx",
                        (unsigned long long)b->addr);
    }
    free(buf);
    return rc;
}

void ctx_close(struct ctx_image *img)
{
    if (img->fd >= 0)
        close(img->fd);
    free(img->meta);
    free(img->threads);
    free(img->fds);
    free(img->vmas);
    free(img->crcs);
    memset(img, 0, sizeof *img);
    img->fd = -1;
}
