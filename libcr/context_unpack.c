/* The compressed blocks of an image (CTX_HDR_COMPRESSED), read back on several
 * threads: each frame's stored bytes checked against their checksum, decompressed to
 * exactly its block's pages, and the memory checked against the block's checksum.
 * For a restart the memory goes into a memfd, so that every block is then read from
 * an (fd, offset) pair, compressed or not (ctx_block_source): the freestanding
 * restorer never decompresses.  For a verification it is dropped. */
#define _GNU_SOURCE
#include "context_reader.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <zstd.h>

#include "crc32c.h"

#define PAGE 4096ULL
#define BLOCK_MAX ((size_t)CTX_BLOCK_MAX_PAGES * PAGE)
#define MAX_THREADS 8

struct unpack {
    struct ctx_image *img;
    int memfd;                 /* -1: verify only */
    uint64_t *dst;             /* per block: its place in the memfd */
    uint32_t next;
    pthread_mutex_t lock;
    int err;
    uint32_t err_block;        /* the first failure in block order */
    char msg[512];
};

static void failed(struct unpack *u, uint32_t i, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void failed(struct unpack *u, uint32_t i, int code, const char *fmt, ...)
{
    pthread_mutex_lock(&u->lock);
    if (!u->err || i < u->err_block) { /* the same message whatever the threads' timing */
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(u->msg, sizeof u->msg, fmt, ap);
        va_end(ap);
        u->err = code;
        u->err_block = i;
    }
    pthread_mutex_unlock(&u->lock);
}

/* One block, checked (and for a restart kept in the memfd); a failure is noted in u. */
static void one_block(struct unpack *u, uint32_t i, ZSTD_DCtx *dc, char *in, char *out)
{
    struct ctx_image *img = u->img;
    const struct ctx_block *b = &img->blocks[i];
    const struct ctx_block_zstd *z = &img->zblocks[i];
    size_t size = (size_t)b->npages * PAGE;
    const char *what = (b->vma & CTX_BLOCK_FILE) ? "the block of saved file contents at offset"
                                                 : "the memory block at";
    unsigned long long addr = (unsigned long long)b->addr;
    if (!z->stored_len) { /* raw: a restart reads it from the image itself */
        if (u->memfd >= 0)
            return;
        int rc = ctx_read_at(img->fd, out, size, img->base + b->file_offset);
        if (rc < 0)
            failed(u, i, -rc, "cannot read %s 0x%llx: %s", what, addr, strerror(-rc));
        else if (crc32c(0, out, size) != img->crcs[i])
            failed(u, i, EBADMSG, "checksum mismatch in %s 0x%llx", what, addr);
        return;
    }
    int rc = ctx_read_at(img->fd, in, z->stored_len, img->base + b->file_offset);
    if (rc < 0) {
        failed(u, i, -rc, "cannot read the compressed block %u (%s 0x%llx): %s", i, what, addr,
               strerror(-rc));
        return;
    }
    if (crc32c(0, in, z->stored_len) != z->stored_crc) {
        failed(u, i, EBADMSG, "checksum mismatch in the compressed bytes of %s 0x%llx (block %u): "
               "the file is damaged", what, addr, i);
        return;
    }
    unsigned long long content = ZSTD_getFrameContentSize(in, z->stored_len);
    size_t n = content == size ? ZSTD_decompressDCtx(dc, out, size, in, z->stored_len) : 0;
    if (content != size || ZSTD_isError(n) || n != size) {
        failed(u, i, EBADMSG, "the compressed block %u (%s 0x%llx) does not decompress to its %zu "
               "bytes (%s)", i, what, addr, size,
               content != size ? "its frame says otherwise" : ZSTD_isError(n) ? ZSTD_getErrorName(n)
                                                                              : "short");
        return;
    }
    if (crc32c(0, out, size) != img->crcs[i]) {
        failed(u, i, EBADMSG, "checksum mismatch in %s 0x%llx after decompression", what, addr);
        return;
    }
    if (u->memfd >= 0) {
        size_t done = 0;
        while (done < size) {
            ssize_t w = pwrite(u->memfd, out + done, size - done, (off_t)(u->dst[i] + done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                int e = w < 0 ? errno : EIO;
                failed(u, i, e, "cannot keep the decompressed memory (%zu MiB in memory): %s",
                       (size_t)(img->raw_bytes >> 20), strerror(e));
                return;
            }
            done += (size_t)w;
        }
    }
}

static void *worker(void *arg)
{
    struct unpack *u = arg;
    ZSTD_DCtx *dc = ZSTD_createDCtx();
    char *in = malloc(BLOCK_MAX), *out = malloc(BLOCK_MAX);
    if (!dc || !in || !out)
        failed(u, 0, ENOMEM, "out of memory for decompression");
    for (;;) {
        uint32_t i = __atomic_fetch_add(&u->next, 1, __ATOMIC_RELAXED);
        if (i >= u->img->hdr.nblocks || !dc || !in || !out)
            break;
        one_block(u, i, dc, in, out);
    }
    ZSTD_freeDCtx(dc);
    free(in);
    free(out);
    return NULL;
}

static int run(struct unpack *u, char *err, size_t errlen)
{
    cpu_set_t set;
    int n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
    if (n > MAX_THREADS)
        n = MAX_THREADS;
    if (n < 1)
        n = 1;
    pthread_t t[MAX_THREADS];
    int started = 0;
    pthread_mutex_init(&u->lock, NULL);
    for (int k = 1; k < n; k++)
        if (pthread_create(&t[started], NULL, worker, u) == 0)
            started++;
    worker(u);
    for (int k = 0; k < started; k++)
        pthread_join(t[k], NULL);
    pthread_mutex_destroy(&u->lock);
    if (u->err) {
        snprintf(err, errlen, "%s", u->msg);
        return -u->err;
    }
    return 0;
}

/* The bytes between blocks (before a raw block's page) must be zero: no byte of the
 * file escapes a check. */
static int check_gaps(struct ctx_image *img, char *err, size_t errlen)
{
    uint64_t at = img->hdr.data_offset;
    char buf[PAGE];
    for (uint32_t i = 0; i <= img->hdr.nblocks; i++) {
        uint64_t to = i < img->hdr.nblocks ? img->blocks[i].file_offset : img->hdr.trailer_offset;
        size_t gap = (size_t)(to - at);
        int rc = gap ? ctx_read_at(img->fd, buf, gap, img->base + at) : 0;
        if (rc == -EIO && img->base + at + gap > img->base + img->file_size) {
            snprintf(err, errlen, "truncated in the memory data");
            return -EIO;
        }
        if (rc < 0) {
            snprintf(err, errlen, "cannot read the memory data (%zu bytes at offset %llu): %s", gap,
                     (unsigned long long)(img->base + at), strerror(-rc));
            return rc;
        }
        for (size_t k = 0; k < gap; k++)
            if (buf[k]) {
                snprintf(err, errlen, "garbage at offset %llu, between memory blocks",
                         (unsigned long long)(at + k));
                return -EBADMSG;
            }
        if (i < img->hdr.nblocks)
            at = to + (img->zblocks[i].stored_len ? img->zblocks[i].stored_len
                                                  : (uint64_t)img->blocks[i].npages * PAGE);
    }
    return 0;
}

int ctx_unpack_verify(struct ctx_image *img, char *err, size_t errlen)
{
    if (!img->zblocks)
        return ctx_verify_data(img, err, errlen);
    int rc = check_gaps(img, err, errlen);
    if (rc < 0)
        return rc;
    struct unpack u = { .img = img, .memfd = -1 };
    return run(&u, err, errlen);
}

int ctx_unpack(struct ctx_image *img, char *err, size_t errlen)
{
    if (!img->zblocks || img->unpack_off)
        return 0;
    uint64_t *dst = calloc(img->hdr.nblocks + 1, sizeof *dst), total = 0;
    if (!dst) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < img->hdr.nblocks; i++)
        if (img->zblocks[i].stored_len) {
            dst[i] = total;
            total += (uint64_t)img->blocks[i].npages * PAGE;
        }
    int fd = memfd_create("cr-unpacked", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, (off_t)total) < 0) {
        int e = errno;
        snprintf(err, errlen, "cannot make room for the decompressed memory: %s", strerror(e));
        if (fd >= 0)
            close(fd);
        free(dst);
        return -e;
    }
    struct unpack u = { .img = img, .memfd = fd, .dst = dst };
    int rc = run(&u, err, errlen);
    if (rc < 0) {
        close(fd);
        free(dst);
        return rc;
    }
    img->unpack_fd = fd;
    img->unpack_off = dst;
    return 0;
}
