/* Words for people about what a context file holds (the tools' messages). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdint.h>

#include "context_reader.h"

void ctx_say_outside(const struct ctx_tree *t, FILE *out, const char *prog)
{
    for (uint32_t i = 0; i < t->n; i++)
        for (uint32_t k = 0; t->images[i].proc && k < t->images[i].proc->nfds; k++) {
            const struct ctx_fd *f = t->images[i].fds[k];
            const char *how = NULL;
            if (f->kind == CTX_FD_DISCONNECTED)
                how = f->flags & CTX_FD_DISCONNECTED_TERMINAL ? "a hung-up terminal"
                      : (f->open_flags & O_ACCMODE) == O_RDONLY
                          ? "a pipe's read end whose writer is gone (end of file)"
                          : "a pipe's write end whose reader is gone (EPIPE)";
            else if (f->kind == CTX_FD_SOCKET_DEAD)
                how = "a reset connection";
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
