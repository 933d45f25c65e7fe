/* One memory block of an image read whole, whatever its storage (raw, compressed, or
 * already decompressed by ctx_unpack), every checksum checked: for the blocks that are
 * put back before the restorer runs, possibly in another process than the one that
 * unpacks the image (a tree's shared memfds, System V segments).  Compiled into the
 * runtime too, with the fd kinds that call it (resources/resources.h). */
#define _GNU_SOURCE
#include "context_reader.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>

#include "crc32c.h"

/* len bytes at off, whole: 0, or -errno (-EIO at the end of the file) */
int ctx_read_at(int fd, void *buf, size_t len, uint64_t off)
{
    char *b = buf;
    while (len) {
        ssize_t n = pread(fd, b, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        b += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

int ctx_read_block(const struct ctx_image *img, uint32_t i, void *buf, char *err, size_t errlen)
{
    const struct ctx_block *b = &img->blocks[i];
    size_t size = (size_t)b->npages * 4096;
    unsigned long long addr = (unsigned long long)b->addr;
    const struct ctx_block_zstd *z = img->zblocks ? &img->zblocks[i] : NULL;
    int rc;
    if (!z || !z->stored_len || img->unpack_off) { /* its memory, as it is in a file */
        int fd;
        uint64_t off;
        ctx_block_source(img, i, &fd, &off);
        rc = ctx_read_at(fd, buf, size, off);
        if (rc < 0) {
            snprintf(err, errlen, "cannot read the block at 0x%llx: %s", addr, strerror(-rc));
            return rc;
        }
    } else { /* compressed: its frame, checked, then decompressed */
        char *in = malloc(z->stored_len);
        if (!in) {
            snprintf(err, errlen, "out of memory");
            return -ENOMEM;
        }
        rc = ctx_read_at(img->fd, in, z->stored_len, img->base + b->file_offset);
        if (rc < 0)
            snprintf(err, errlen, "cannot read the compressed block at 0x%llx: %s", addr, strerror(-rc));
        else if (crc32c(0, in, z->stored_len) != z->stored_crc)
            rc = -EBADMSG, snprintf(err, errlen, "checksum mismatch in the compressed bytes of the "
                                    "block at 0x%llx (block %u): the file is damaged", addr, i);
        size_t n = 0;
        if (rc == 0 && (ZSTD_getFrameContentSize(in, z->stored_len) != size ||
                        ZSTD_isError(n = ZSTD_decompress(buf, size, in, z->stored_len)) || n != size))
            rc = -EBADMSG, snprintf(err, errlen, "the compressed block %u at 0x%llx does not "
                                    "decompress to its %zu bytes", i, addr, size);
        free(in);
        if (rc < 0)
            return rc;
    }
    if (crc32c(0, buf, size) != img->crcs[i]) {
        snprintf(err, errlen, "checksum mismatch in the block at 0x%llx%s", addr,
                 z && z->stored_len ? " after decompression" : "");
        return -EBADMSG;
    }
    return 0;
}
