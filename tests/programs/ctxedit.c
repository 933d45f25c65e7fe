/* Test helper: changes one field of a context file and recomputes its checksums, to
 * produce files that are well-formed but must be refused for what they say
 * (a newer version, another architecture, another kernel's vdso, another owner, a
 * process identity its owner edited).  zblock.stored=K flips a byte inside the K-th
 * compressed block (its stored checksum then disagrees); zblock.forge=K does that and
 * recomputes the stored checksum, so only the decompressed memory can tell.
 * block.overlap=K puts block K on block K-1's bytes, block.outside=K past the data. */
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "context_format.h"
#include "crc32c.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: ctxedit FILE header.version|header.arch|header.uid|proc.vdso_crc|proc.uid|proc.euid|proc.gid|proc.egid=VALUE\n");
        return 2;
    }
    int fd = open(argv[1], O_RDWR);
    struct ctx_header h;
    if (fd < 0 || pread(fd, &h, sizeof h, 0) != sizeof h) {
        perror(argv[1]);
        return 2;
    }
    char *eq = strchr(argv[2], '=');
    if (!eq)
        return 2;
    unsigned long long v = strtoull(eq + 1, NULL, 0);
    *eq = 0;
    if (!strcmp(argv[2], "header.version"))
        h.version = (uint32_t)v;
    else if (!strcmp(argv[2], "header.arch"))
        h.arch = (uint32_t)v;
    else if (!strcmp(argv[2], "header.uid"))
        h.uid = (uint32_t)v;
    else if (!strncmp(argv[2], "proc.", 5)) {
        struct ctx_rec r;
        off_t off = (off_t)h.records_offset;
        if (pread(fd, &r, sizeof r, off) != sizeof r || r.type != CTX_REC_PROC)
            return 2;
        char *pl = malloc(r.length);
        if (pread(fd, pl, r.length, off + (off_t)sizeof r) != (ssize_t)r.length)
            return 2;
        struct ctx_proc *p = (struct ctx_proc *)pl;
        const char *f = argv[2] + 5;
        if (!strcmp(f, "vdso_crc"))
            p->vdso_crc = v;
        else if (!strcmp(f, "uid"))
            p->uid = (uint32_t)v;
        else if (!strcmp(f, "euid"))
            p->euid = (uint32_t)v;
        else if (!strcmp(f, "gid"))
            p->gid = (uint32_t)v;
        else if (!strcmp(f, "egid"))
            p->egid = (uint32_t)v;
        else
            return fprintf(stderr, "unknown field %s\n", argv[2]), 2;
        r.crc = crc32c(crc32c(0, &r, 12), pl, r.length);
        if (pwrite(fd, &r, sizeof r, off) != sizeof r ||
            pwrite(fd, pl, r.length, off + (off_t)sizeof r) != (ssize_t)r.length)
            return 2;
    } else if (!strcmp(argv[2], "zblock.stored") || !strcmp(argv[2], "zblock.forge")) {
        /* the block table and the compressed block table that follows it */
        off_t off = (off_t)h.records_offset, blocks_at = 0, z_at = 0;
        struct ctx_rec r, zr = { 0 };
        for (uint32_t i = 0; i < h.nrecords && pread(fd, &r, sizeof r, off) == sizeof r; i++) {
            if (r.type == CTX_REC_BLOCKS)
                blocks_at = off + (off_t)sizeof r;
            if (r.type == CTX_REC_BLOCK_ZSTD)
                z_at = off + (off_t)sizeof r, zr = r;
            off += (off_t)sizeof r + r.length;
        }
        if (!blocks_at || !z_at)
            return fprintf(stderr, "not a compressed image\n"), 2;
        struct ctx_block *b = malloc(h.nblocks * sizeof *b);
        struct ctx_block_zstd *z = malloc(zr.length);
        if (pread(fd, b, h.nblocks * sizeof *b, blocks_at) != (ssize_t)(h.nblocks * sizeof *b) ||
            pread(fd, z, zr.length, z_at) != (ssize_t)zr.length)
            return 2;
        uint32_t k = 0, i;
        for (i = 0; i < h.nblocks; i++)
            if (z[i].stored_len && k++ == v)
                break;
        if (i == h.nblocks)
            return fprintf(stderr, "no compressed block %llu\n", v), 2;
        unsigned char *frame = malloc(z[i].stored_len);
        if (pread(fd, frame, z[i].stored_len, (off_t)b[i].file_offset) != (ssize_t)z[i].stored_len)
            return 2;
        frame[z[i].stored_len / 2] ^= 0x55;
        if (pwrite(fd, frame, z[i].stored_len, (off_t)b[i].file_offset) != (ssize_t)z[i].stored_len)
            return 2;
        if (!strcmp(argv[2], "zblock.forge")) {
            z[i].stored_crc = crc32c(0, frame, z[i].stored_len);
            zr.crc = crc32c(crc32c(0, &zr, 12), z, zr.length);
            if (pwrite(fd, &zr, sizeof zr, z_at - (off_t)sizeof zr) != sizeof zr ||
                pwrite(fd, z, zr.length, z_at) != (ssize_t)zr.length)
                return 2;
        }
        printf("0x%llx\n", (unsigned long long)b[i].addr);
    } else if (!strcmp(argv[2], "block.overlap") || !strcmp(argv[2], "block.outside")) {
        /* block K moved onto block K-1's bytes, or past the data area (a pre-copied
         * image, whose blocks may lie anywhere inside it) */
        off_t off = (off_t)h.records_offset, at = 0;
        struct ctx_rec r, br = { 0 };
        for (uint32_t i = 0; i < h.nrecords && pread(fd, &r, sizeof r, off) == sizeof r; i++) {
            if (r.type == CTX_REC_BLOCKS)
                at = off + (off_t)sizeof r, br = r;
            off += (off_t)sizeof r + r.length;
        }
        if (!at || v == 0 || v >= h.nblocks)
            return fprintf(stderr, "no block %llu after the first\n", v), 2;
        struct ctx_block *b = malloc(br.length);
        if (pread(fd, b, br.length, at) != (ssize_t)br.length)
            return 2;
        if (!strcmp(argv[2], "block.outside"))
            b[v].file_offset = h.trailer_offset;
        else if (b[v].npages <= b[v - 1].npages) /* (the smaller on the larger: inside) */
            b[v].file_offset = b[v - 1].file_offset;
        else
            b[v - 1].file_offset = b[v].file_offset;
        br.crc = crc32c(crc32c(0, &br, 12), b, br.length);
        if (pwrite(fd, &br, sizeof br, at - (off_t)sizeof br) != sizeof br ||
            pwrite(fd, b, br.length, at) != (ssize_t)br.length)
            return 2;
    } else {
        fprintf(stderr, "unknown field %s\n", argv[2]);
        return 2;
    }
    h.header_crc = crc32c(0, &h, offsetof(struct ctx_header, header_crc));
    if (pwrite(fd, &h, sizeof h, 0) != sizeof h)
        return 2;
    return close(fd) ? 2 : 0;
}
