/* Words for people about what a context file holds (the tools' messages). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>

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
            else if (f->kind == CTX_FD_PMI)
                how = "a reset connection, unless cr_restart runs as a task of a new step "
                      "(its PMI_FD then takes the number)";
            if (how)
                fprintf(out, "%s: process %d: fd %d (%s) leads outside the checkpoint; it "
                        "comes back as %s\n", prog, t->images[i].proc->pid, f->fd,
                        (const char *)(f + 1), how);
        }
}
