/* cr_restart's child puts back the image's file descriptors: each record's object,
 * from the tree's pool or made by its kind (resources/), placed at its number; the
 * late kinds (epoll, whose targets must exist) after every other fd; then the file
 * locks the process held and the owners of its fds' signals. */
#define _GNU_SOURCE
#include "restart_child.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "context_reader.h"
#include "resources/resources.h"

static void place_fd(struct child *c, int obj, const struct ctx_fd *f)
{
    int cloexec = (f->fd_flags & FD_CLOEXEC) ? O_CLOEXEC : 0;
    if (obj == f->fd) {
        fcntl(obj, F_SETFD, cloexec ? FD_CLOEXEC : 0);
        return;
    }
    if (dup3(obj, f->fd, cloexec) < 0)
        child_fail(c, errno, "cannot place fd %d: %s", f->fd, strerror(errno));
}

/* The file status flags F_SETFL can change (the access mode and creation flags stay). */
#define SETTABLE_STATUS_FLAGS (O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME)

/* The record's object; *own: close it once placed. */
static int fd_restore(struct child *c, const struct cr_fd_ops *k, const struct ctx_fd *f,
                      uint32_t rec, int *own)
{
    *own = 1;
    if (k && k->restore)
        return k->restore(c, f, rec, own);
    return k && k->make ? k->make(c, f, rec) : -1;
}

void restore_fds(struct child *c)
{
    struct ctx_image *img = c->img;
    for (const struct cr_fd_ops *const *k = cr_fd_kinds; *k; k++)
        if ((*k)->prepare)
            (*k)->prepare(c);
    for (uint32_t i = 0; i < img->proc->nfds; i++) {
        const struct ctx_fd *f = img->fds[i];
        const struct cr_fd_ops *k = cr_fd_kind(f->kind);
        int obj, own;
        if ((obj = pool_origin(c, c->member, f->fd)) >= 0) { /* another process has it too */
            place_fd(c, obj, f);
            continue;
        }
        if (k && k->late)
            continue; /* below, once its targets exist */
        obj = fd_restore(c, k, f, i, &own);
        place_fd(c, obj, f);
        if (k && k->restore_nonblock) /* every status flag F_SETFL sets: a dup of a file
                                          opened O_APPEND shares that open file */
            fcntl(f->fd, F_SETFL, (int)(f->open_flags & SETTABLE_STATUS_FLAGS));
        if (own && obj != f->fd)
            close(obj);
    }
    /* the late ones, each once what it needs is placed */
    char *done = calloc(img->proc->nfds + 1, 1);
    if (!done)
        child_fail(c, ENOMEM, "out of memory");
    uint32_t left = 0;
    for (uint32_t i = 0; i < img->proc->nfds; i++) {
        const struct cr_fd_ops *k = cr_fd_kind(img->fds[i]->kind);
        left += k && k->late;
    }
    for (int force = 0; left;) {
        uint32_t before = left;
        for (uint32_t i = 0; i < img->proc->nfds; i++) {
            const struct ctx_fd *f = img->fds[i];
            const struct cr_fd_ops *k = cr_fd_kind(f->kind);
            int own;
            if (done[i] || !k || !k->late || (!force && k->ready && !k->ready(c, f)))
                continue;
            int obj = fd_restore(c, k, f, i, &own);
            place_fd(c, obj, f);
            if (own && obj != f->fd)
                close(obj);
            done[i] = 1;
            left--;
        }
        force = left == before; /* none was ready: the rest in order, their own failures
                                   say what is missing */
    }
    free(done);
    for (const struct cr_fd_ops *const *k = cr_fd_kinds; *k; k++)
        if ((*k)->finish)
            (*k)->finish(c);
    restore_locks(c);
    restore_owners(c);
    for (int i = 0; i < 3; i++)
        if (c->stdio[i] >= 0)
            close(c->stdio[i]);
}
