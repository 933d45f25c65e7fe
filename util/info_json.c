/* cr_info --json: what a context file holds, for programs (one JSON object per file). */
#define _GNU_SOURCE
#include "info_json.h"

#include <stdio.h>
#include <string.h>

static void str(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

static void process(const struct ctx_image *img)
{
    const struct ctx_proc *p = img->proc;
    printf("{\"pid\":%d,\"ppid\":%d,\"pgid\":%d,\"sid\":%d,\"uid\":%u,\"gid\":%u,\"comm\":", p->pid,
           p->ppid, p->pgid, p->sid, p->uid, p->gid);
    str(p->comm);
    printf(",\"exe\":");
    str(img->exe);
    printf(",\"cwd\":");
    str(img->cwd);
    /* stopped by job control at the checkpoint (it comes back stopped): by which signal */
    if (img->stopped)
        printf(",\"stopped\":{\"signal\":%u}", img->stopped->signal);
    else
        printf(",\"stopped\":null");
    /* the runtime's table of the pids the program knows by their first values (null:
     * saved without the runtime, no table) */
    if (img->pid_map) {
        const struct ctx_pid_pair *e = (const void *)(img->pid_map + 1);
        printf(",\"pid_map\":[");
        for (uint32_t i = 0; i < img->pid_map->n; i++)
            printf("%s{\"known\":%d,\"real\":%d}", i ? "," : "", e[i].known, e[i].real);
        printf("]");
    } else {
        printf(",\"pid_map\":null");
    }
    printf(",\"threads\":%u,\"fds\":[", p->nthreads);
    for (uint32_t i = 0; i < p->nfds; i++) {
        const struct ctx_fd *f = img->fds[i];
        const char *acc = (f->open_flags & 3) == 0 ? "r" : (f->open_flags & 3) == 1 ? "w" : "rw";
        printf("%s{\"fd\":%d,\"kind\":", i ? "," : "", f->fd);
        str(ctx_fd_kind_name(f->kind));
        printf(",\"access\":\"%s\",\"target\":", acc);
        str((const char *)(f + 1));
        printf(",\"offset\":%llu}", (unsigned long long)f->pos);
    }
    unsigned long long mapped = 0, saved = 0;
    for (uint32_t i = 0; i < p->nvmas; i++)
        mapped += img->vmas[i]->end - img->vmas[i]->start;
    for (uint32_t i = 0; i < img->hdr.nblocks; i++) /* (an image is its process's alone) */
        saved += (unsigned long long)img->blocks[i].npages * img->hdr.page_size;
    printf("],\"memory\":{\"regions\":%u,\"mapped\":%llu,\"saved\":%llu", p->nvmas, mapped, saved);
    if (img->zblocks) { /* the file's bytes for the memory's, and the ratio */
        uint32_t packed = 0;
        for (uint32_t i = 0; i < img->hdr.nblocks; i++)
            packed += img->zblocks[i].stored_len != 0;
        printf(",\"compression\":{\"method\":\"zstd\",\"stored\":%llu,\"ratio\":%.3f,"
               "\"blocks_compressed\":%u}", (unsigned long long)img->stored_bytes,
               img->stored_bytes ? (double)img->raw_bytes / (double)img->stored_bytes : 1.0, packed);
    }
    if (img->parent) { /* an incremental image: what it takes from its parent */
        unsigned long long from = 0;
        for (uint32_t i = 0; i < img->nruns; i++)
            from += (unsigned long long)img->runs[i].npages * img->hdr.page_size;
        printf(",\"parent\":{\"name\":");
        str(img->parent_name);
        printf(",\"depth\":%u,\"taken\":%llu}", img->parent->depth, from);
    }
    printf("},\"aio\":[");
    for (uint32_t i = 0; i < img->naios; i++) { /* Linux AIO contexts, by their ids */
        const struct ctx_aio *a = img->aios[i];
        printf("%s{\"context\":%llu,\"events\":%u,\"unreaped\":%u}", i ? "," : "",
               (unsigned long long)a->addr, a->nr, (a->tail + a->nr - a->head) % a->nr);
    }
    printf("]}");
}

void info_json(const char *path, const struct ctx_tree *tr, const char *error)
{
    printf("{\"file\":");
    str(path);
    printf(",\"valid\":%s,\"error\":", error ? "false" : "true");
    if (error)
        str(error);
    else
        printf("null");
    if (!tr) {
        printf("}\n");
        return;
    }
    const struct ctx_header *h = &tr->hdr;
    static const char *const scopes[] = { "?", "process", "process group", "session", "tree" };
    printf(",\"format\":%u,\"size\":%llu,\"created\":%llu,\"kernel\":", h->version,
           (unsigned long long)tr->file_size, (unsigned long long)(h->created_ns / 1000000000ULL));
    str(h->kernel_release);
    printf(",\"glibc\":");
    str(h->glibc_version);
    printf(",\"scope\":\"%s\",\"owner_uid\":%u,\"processes\":[", scopes[h->scope <= 4 ? h->scope : 0],
           h->uid);
    for (uint32_t i = 0; i < tr->n; i++) {
        if (i)
            putchar(',');
        if (tr->images[i].proc) {
            process(&tr->images[i]);
        } else { /* a zombie of a tree: no image */
            printf("{\"pid\":%d,\"ppid\":%d,\"comm\":", tr->procs[i].pid, tr->procs[i].ppid);
            str(tr->procs[i].comm);
            printf(",\"zombie\":true,\"wait_status\":%d}", tr->procs[i].exit_status);
        }
    }
    printf("]}\n");
}
