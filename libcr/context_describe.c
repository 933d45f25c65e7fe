/* Words for people about what a context file holds (the tools' messages). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdint.h>

#include "context_reader.h"

void ctx_say_outside(const struct ctx_tree *t, FILE *out, const char *prog)
{
    for (uint32_t i = 0; i < t->n; i++)
        for (uint32_t k = 0; t->images[i].proc && k < t->images[i].proc->nfds; k++) {
            const struct ctx_fd *f = t->images[i].fds[k];
            const char *how = ctx_fd_outside(f);
            if (how)
                fprintf(out, "%s: process %d: fd %d (%s) leads outside the checkpoint; it "
                        "comes back as %s\n", prog, t->images[i].proc->pid, f->fd,
                        (const char *)(f + 1), how);
        }
}

int ctx_describe_compression(const struct ctx_image *img, char *buf, size_t len)
{
    if (!img->zblocks)
        return 0;
    uint32_t packed = 0;
    for (uint32_t i = 0; i < img->hdr.nblocks; i++)
        packed += img->zblocks[i].stored_len != 0;
    double ratio = img->stored_bytes ? (double)img->raw_bytes / (double)img->stored_bytes : 1.0;
    snprintf(buf, len, "compressed (zstd): %.1f MiB of memory stored in %.1f MiB, ratio %.2f; "
             "%u of %u blocks compressed, the others stored raw",
             (double)img->raw_bytes / 1048576.0, (double)img->stored_bytes / 1048576.0, ratio,
             packed, img->hdr.nblocks);
    return 1;
}
