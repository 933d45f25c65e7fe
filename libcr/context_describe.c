/* Words for people about what a context file holds (the tools' messages). */
#define _GNU_SOURCE
#include <stdio.h>

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
