/* libFuzzer harness for the context-file reader: any bytes handed to cr_restart or
 * cr_info must be refused with a message, never read out of bounds (make fuzz).
 * Each input is read as it is and, when that changes it, again with its checksums
 * made right: a mutation then gets past the checksums to the checks of each record's
 * fields (the fd kinds' validators among them), which a checksum refusal would hide. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "context_reader.h"
#include "crc32c.h"

/* The records in [off, end) of b: each one's crc made to match, as far as their
 * lengths lead. */
static void fix_records(uint8_t *b, uint64_t off, uint64_t end)
{
    struct ctx_rec r;
    while (end - off >= sizeof r) {
        memcpy(&r, b + off, sizeof r);
        if (r.length > end - off - sizeof r)
            return;
        r.crc = crc32c(crc32c(0, &r, 12), b + off + sizeof r, r.length);
        memcpy(b + off, &r, sizeof r);
        off += sizeof r + r.length;
    }
}

/* The image at [base, base + len) of b: its header, records and trailer. */
static void fix_image(uint8_t *b, uint64_t base, uint64_t len, int tree_ok)
{
    struct ctx_header h;
    if (len < sizeof h)
        return;
    memcpy(&h, b + base, sizeof h);
    h.header_crc = crc32c(0, &h, offsetof(struct ctx_header, header_crc));
    memcpy(b + base, &h, sizeof h);
    if (h.records_offset > len || h.records_length > len - h.records_offset)
        return;
    if ((h.flags & CTX_HDR_TREE) && tree_ok) {
        uint64_t off = h.records_offset, end = off + h.records_length;
        struct ctx_rec r;
        struct ctx_tree_proc p;
        while (end - off >= sizeof r + sizeof p) {
            memcpy(&r, b + off, sizeof r);
            memcpy(&p, b + off + sizeof r, sizeof p);
            r.crc = crc32c(crc32c(0, &r, 12), &p, sizeof p);
            memcpy(b + off, &r, sizeof r);
            if (p.image_offset <= len && p.image_length <= len - p.image_offset)
                fix_image(b, p.image_offset, p.image_length, 0);
            off += sizeof r + sizeof p;
        }
    } else {
        fix_records(b + base, h.records_offset, h.records_offset + h.records_length);
    }
    if (h.trailer_offset <= len)
        fix_records(b + base, h.trailer_offset, len);
}

static void read_one(int fd, const uint8_t *data, size_t size)
{
    if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        return;
    char path[64], err[1024];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    struct ctx_tree t;
    if (ctx_tree_open(path, &t, err, sizeof err) == 0) {
        for (uint32_t i = 0; i < t.n; i++)
            if (t.images[i].proc)
                ctx_verify_data(&t.images[i], err, sizeof err);
        ctx_tree_close(&t);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    if (fd < 0 && (fd = memfd_create("fuzz-image", 0)) < 0)
        return 0;
    read_one(fd, data, size);
    uint8_t *fixed = malloc(size ? size : 1);
    if (!fixed)
        return 0;
    memcpy(fixed, data, size);
    fix_image(fixed, 0, size, 1);
    if (memcmp(fixed, data, size))
        read_one(fd, fixed, size);
    free(fixed);
    return 0;
}
