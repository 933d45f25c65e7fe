/* cr_info: show what a context file holds, and check every byte of it. */
#define _GNU_SOURCE
#include <errno.h>
#include <libgen.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <dirent.h>
#include <sys/stat.h>

#include "context_reader.h"
#include "generations.h"
#include "info_json.h"

static void usage(FILE *out)
{
    fprintf(out,
"Usage: cr_info [OPTIONS] FILE|DIR...\n"
"Print what each context FILE holds (header, processes, threads, file descriptors,\n"
"memory map with sizes) and validate it: every record and memory block checksum.\n"
"A DIR is a Slurm step's image directory, whose checkpoint generations are listed\n"
"(when, how big, complete or not, which is the latest), or a directory that\n"
"cr_checkpoint --dir wrote, whose context.* files are shown and checked.\n\n"
"  -q, --quiet    print nothing; the exit status says whether the files are valid\n"
"  -j, --json     one JSON object per file (header, processes, their fds and memory,\n"
"                 valid or the error), for programs\n"
"  -h, --help     show this help      -V, --version   show the version\n\n"
"Exit status: 0 when every FILE is valid, else the errno of the first problem.\n");
}

static void size_str(char *buf, size_t len, unsigned long long bytes)
{
    const char *unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    double v = (double)bytes;
    int u = 0;
    while (v >= 1024 && u < 4)
        v /= 1024, u++;
    snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

static void show_file(const char *path, const struct ctx_tree *tr)
{
    const struct ctx_header *h = &tr->hdr;
    char when[64], sz[32];
    time_t t = (time_t)(h->created_ns / 1000000000ULL);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S %Z", localtime(&t));
    size_str(sz, sizeof sz, tr->file_size);
    printf("%s: slurm-cr context file, format %u, %s (%llu bytes)\n", path, h->version, sz,
           (unsigned long long)tr->file_size);
    printf("created:  %s on x86_64, kernel %s, glibc %s, %u-byte pages\n", when,
           h->kernel_release, h->glibc_version, h->page_size);
    static const char *const scopes[] = { "?", "process", "process group", "session", "tree" };
    printf("scope:    %s, %u process%s, owner uid %u\n", scopes[h->scope], h->nproc,
           h->nproc == 1 ? "" : "es", h->uid);
    for (uint32_t i = 0; h->flags & CTX_HDR_TREE && i < tr->n; i++) {
        const struct ctx_tree_proc *p = &tr->procs[i];
        if (p->state == CTX_TREE_ZOMBIE)
            printf("  %d (%s): child of %d, exited (wait status 0x%x), not reaped\n", p->pid,
                   p->comm, p->ppid, p->exit_status);
        else
            printf("  %d (%s): child of %d, pgid %d, sid %d, image at %llu (%llu bytes)\n",
                   p->pid, p->comm, p->ppid, p->pgid, p->sid, (unsigned long long)p->image_offset,
                   (unsigned long long)p->image_length);
    }
}

static void show(const struct ctx_image *img)
{
    const struct ctx_proc *p = img->proc;
    printf("process %d (%s): ppid %d, pgid %d, sid %d, uid %u, gid %u, umask %03o\n", p->pid,
           p->comm, p->ppid, p->pgid, p->sid, p->uid, p->gid, p->umask);
    printf("  exe:    %s (inode %llu, %llu bytes)\n", img->exe, (unsigned long long)p->exe_id.ino,
           (unsigned long long)p->exe_id.size);
    printf("  cwd:    %s%s\n", img->cwd, img->cwd_deleted ? " (deleted: made again at restart, then removed)" : "");
    printf("  signals pending: 0x%llx; pdeathsig %d, dumpable %d, subreaper %d, no_new_privs %d\n",
           (unsigned long long)p->shared_pending, p->pdeathsig, p->dumpable, p->subreaper,
           p->no_new_privs);
    if (img->stopped)
        printf("  stopped at the checkpoint (job control): stops again once restored (signal %u), "
               "and cr_restart with it\n", img->stopped->signal);
    if (img->pid_map && img->pid_map->n) { /* restarted with new pids by a normal user */
        const struct ctx_pid_pair *e = (const void *)(img->pid_map + 1);
        printf("  pids the program knows by their first values (%u):", img->pid_map->n);
        for (uint32_t i = 0; i < img->pid_map->n; i++)
            printf(" %d=%d", e[i].known, e[i].real);
        printf("\n");
    }
    printf("  brk:    0x%llx-0x%llx, stack 0x%llx\n", (unsigned long long)p->start_brk,
           (unsigned long long)p->brk, (unsigned long long)p->start_stack);
    printf("  threads: %u\n", p->nthreads);
    for (uint32_t i = 0; i < p->nthreads; i++) {
        const struct ctx_thread *th = img->threads[i];
        const struct ctx_thread_regs *tr = img->regs ? img->regs[i] : NULL;
        if (tr) { /* checkpointed through ptrace: resumes where it was interrupted */
            int64_t orig = (int64_t)tr->regs[CTX_UREG_ORIG_RAX];
            printf("    tid %-7d %-16s (ptrace) rip 0x%llx rsp 0x%llx fs 0x%llx", th->tid, th->comm,
                   (unsigned long long)tr->regs[CTX_UREG_RIP],
                   (unsigned long long)tr->regs[CTX_UREG_RSP], (unsigned long long)th->fs_base);
            if (orig >= 0)
                printf(" in system call %lld (rax %lld)", (long long)orig,
                       (long long)tr->regs[CTX_UREG_RAX]);
            printf(", %u bytes of vector state\n", tr->xsave_len);
            for (uint32_t k = 0; k < img->npending; k++)
                if (img->pending[k]->tid == th->tid)
                    printf("      %u signal(s) pending for the %s, queued again at restart\n",
                           img->pending[k]->count, img->pending[k]->shared ? "process" : "thread");
        } else if (th->frame_addr)
            printf("    tid %-7d %-16s rip 0x%llx rsp 0x%llx fs 0x%llx pending 0x%llx\n", th->tid,
                   th->comm, (unsigned long long)th->gregs[16], (unsigned long long)th->gregs[15],
                   (unsigned long long)th->fs_base, (unsigned long long)th->pending);
        else /* the runtime's own thread, saved where it wrote the file */
            printf("    tid %-7d %-16s (slurm-cr runtime) resumes at 0x%llx fs 0x%llx\n", th->tid,
                   th->comm, (unsigned long long)th->resume.rip, (unsigned long long)th->fs_base);
    }
    printf("  fds: %u\n", p->nfds);
    for (uint32_t i = 0; i < p->nfds; i++) /* each kind says its own (resources/) */
        ctx_fd_describe(img->fds[i], stdout);
    for (uint32_t i = 0; i < img->nepoll_files; i++) {
        const struct ctx_epoll_file *e = img->epoll_files[i];
        printf("  epoll fd %d watches the file of fd %d as its target %u (added through a number "
               "that no longer leads to it)\n", e->epoll_fd, e->holder, e->target);
    }
    for (uint32_t i = 0; i < img->nowners; i++) {
        const struct ctx_fd_owner *o = img->owners[i];
        static const char *const types[] = { "thread", "process", "process group" };
        printf("  fd %d signals %s %d with signal %u%s\n", o->fd, types[o->type], o->pid, o->sig,
               o->sig ? "" : " (SIGIO)");
    }
    for (uint32_t i = 0; i < img->ndnotifies; i++)
        printf("  fd %d: a directory watched with dnotify (F_NOTIFY 0x%x), registered again\n",
               img->dnotifies[i]->fd, img->dnotifies[i]->mask);
    for (uint32_t i = 0; i < img->nattached; i++)
        ctx_sock_attach_describe(img->attached[i], stdout);
    if (img->nlocks)
        printf("  locks: %u\n", img->nlocks);
    for (uint32_t i = 0; i < img->nlocks; i++) {
        const struct ctx_lock *l = img->locks[i];
        static const char *const kinds[] = { "?", "flock", "POSIX", "OFD", "lease" };
        if (l->kind == CTX_LOCK_FLOCK)
            printf("    fd %-4d flock %s\n", l->fd, l->type ? "exclusive" : "shared");
        else if (l->kind == CTX_LOCK_LEASE)
            printf("    fd %-4d lease %s\n", l->fd, l->type ? "write" : "read");
        else if (l->len)
            printf("    fd %-4d %-5s %s bytes %llu-%llu\n", l->fd, kinds[l->kind],
                   l->type ? "write" : "read", (unsigned long long)l->start,
                   (unsigned long long)(l->start + l->len - 1));
        else
            printf("    fd %-4d %-5s %s bytes %llu-EOF\n", l->fd, kinds[l->kind],
                   l->type ? "write" : "read", (unsigned long long)l->start);
    }
    unsigned long long *saved = calloc(p->nvmas + 1, sizeof *saved), mapped = 0, total = 0;
    for (uint32_t i = 0; saved && i < img->hdr.nblocks; i++)
        if (!(img->blocks[i].vma & CTX_BLOCK_FILE))
            saved[img->blocks[i].vma] += (unsigned long long)img->blocks[i].npages * 4096;
    printf("  memory map: %u regions\n", p->nvmas);
    for (uint32_t i = 0; i < p->nvmas; i++) {
        const struct ctx_vma *v = img->vmas[i];
        char a[32], b[32];
        size_str(a, sizeof a, v->end - v->start);
        size_str(b, sizeof b, saved ? saved[i] : 0);
        mapped += v->end - v->start;
        total += saved ? saved[i] : 0;
        const char *name = v->path_len ? (const char *)(v + 1)
                         : (v->flags & 2) ? "[heap]" : (v->flags & 4) ? "[stack]" : "";
        static const struct { uint32_t flag; const char *name; } advice[] = {
            { CTX_VMA_HUGEPAGE, " hugepage" }, { CTX_VMA_NOHUGEPAGE, " nohugepage" },
            { CTX_VMA_DONTFORK, " dontfork" }, { CTX_VMA_WIPEONFORK, " wipeonfork" },
            { CTX_VMA_DONTDUMP, " dontdump" }, { CTX_VMA_LOCKED, " locked" },
            { CTX_VMA_LOCKONFAULT, " onfault" }, { CTX_VMA_SEALED, " sealed" },
        };
        char adv[160] = "";
        for (size_t k = 0; k < sizeof advice / sizeof advice[0]; k++)
            if (v->flags & advice[k].flag)
                strcat(adv, advice[k].name);
        const struct ctx_range *runs;
        unsigned long long guard_pages = 0;
        for (uint32_t k = ctx_vma_guards(v, &runs); k-- > 0;)
            guard_pages += (runs[k].end - runs[k].start) / 4096;
        if (guard_pages)
            snprintf(adv + strlen(adv), sizeof adv - strlen(adv), ", %llu guard pages", guard_pages);
        printf("    %012llx-%012llx %c%c%c %-12s %10s %10s saved  %s%s%s%s\n",
               (unsigned long long)v->start, (unsigned long long)v->end,
               v->prot & PROT_READ ? 'r' : '-', v->prot & PROT_WRITE ? 'w' : '-',
               v->prot & PROT_EXEC ? 'x' : '-', ctx_vma_kind_name(v->kind), a, b, name,
               (v->flags & CTX_VMA_SAVED) ? " (whole)" : "", *adv ? " advised" : "", adv);
    }
    free(saved);
    char a[32], b[32];
    size_str(a, sizeof a, mapped);
    size_str(b, sizeof b, total);
    printf("  memory: %s mapped, %s saved in %u blocks\n", a, b, img->hdr.nblocks);
    for (uint32_t i = 0; i < img->naios; i++) {
        const struct ctx_aio *x = img->aios[i];
        printf("  AIO context 0x%llx: a ring of %u events, %u completed and not reaped "
               "(head %u, tail %u), none in flight\n", (unsigned long long)x->addr, x->nr,
               (x->tail + x->nr - x->head) % x->nr, x->head, x->tail);
    }
    char z[256];
    if (ctx_describe_compression(img, z, sizeof z))
        printf("  %s\n", z);
    if (img->hdr.flags & CTX_HDR_PRECOPY) {
        size_str(a, sizeof a, img->hdr.data_length - img->raw_bytes);
        printf("  pre-copied: written while the process ran, what changed rewritten at the stop "
               "(%s of the data area unused)\n", a);
    }
    if (img->parent) {
        unsigned long long from = 0;
        for (uint32_t i = 0; i < img->nruns; i++)
            from += (unsigned long long)img->runs[i].npages * 4096;
        size_str(a, sizeof a, from);
        printf("  incremental: %s of unchanged memory taken from its parent %s (%u image%s above "
               "this one, the last full)\n", a, img->parent_name, img->parent->depth,
               img->parent->depth > 1 ? "s" : "");
    }
}

static int json;               /* --json: one object per file, nothing else */

/* An incremental image's chain, each image checked (and the memory taken from them,
 * unless quick), shown unless quiet: 0 or -errno with err. */
static int check_chain(struct ctx_image *img, const char *path, int quiet, char *err, size_t len)
{
    int rc = ctx_chain_open(img, path, err, len);
    if (rc == 0)
        rc = ctx_chain_verify(img, err, len);
    if (rc == 0 && !quiet && !json) {
        printf("  chain:");
        for (uint32_t k = 0; k < img->chain->n; k++)
            printf(" <- %s%s", img->chain->paths[k], k + 1 == img->chain->n ? " (full)" : "");
        printf("\n");
    }
    return rc;
}


/* One context file: shown (unless quiet) and checked; 0 or the exit status. */
static int check_file(const char *path, int quiet)
{
    struct ctx_tree tr;
    char err[1024];
    int rc = ctx_tree_open(path, &tr, err, sizeof err), opened = rc == 0;
    if (rc == 0) {
        if (!quiet && !json)
            show_file(path, &tr);
        for (uint32_t k = 0; rc == 0 && k < tr.n; k++) {
            if (!tr.images[k].proc)
                continue;
            if (!quiet && !json)
                show(&tr.images[k]);
            char sub[900];
            rc = ctx_verify_data(&tr.images[k], sub, sizeof sub);
            if (rc == 0 && tr.images[k].parent)
                rc = check_chain(&tr.images[k], path, quiet, sub, sizeof sub);
            if (rc < 0)
                snprintf(err, sizeof err, "process %d: %s", tr.procs[k].pid, sub);
        }
    }
    if (json && !quiet)
        info_json(path, opened ? &tr : NULL, rc < 0 ? err : NULL);
    if (opened)
        ctx_tree_close(&tr);
    if (json)
        return rc < 0 ? (-rc & 0xff ? -rc & 0xff : 1) : 0;
    if (rc < 0) {
        if (!quiet)
            fprintf(stderr, "cr_info: %s: invalid: %s\n", path, err);
        return -rc & 0xff ? -rc & 0xff : 1;
    }
    if (!quiet)
        printf("  valid: every record and memory block checksum matches\n");
    return 0;
}

/* A file; or a directory: a step's generations, or the context.* files that
 * cr_checkpoint --dir wrote there. */
static int check_path(const char *path, int quiet)
{
    struct stat st;
    if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
        return check_file(path, quiet);
    char sub[4200];
    snprintf(sub, sizeof sub, "%s/latest", path);
    DIR *d = opendir(path);
    int gens = 0, status = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        gens |= !strncmp(e->d_name, "gen.", 4);
    if (gens || lstat(sub, &st) == 0) {
        if (d)
            closedir(d);
        return quiet ? 0 : list_generations(path, size_str);
    }
    if (d)
        rewinddir(d);
    int found = 0;
    while (d && (e = readdir(d)))
        if (!strncmp(e->d_name, "context.", 8)) {
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            int rc = check_file(sub, quiet);
            if (rc && !status)
                status = rc;
            found = 1;
        }
    if (d)
        closedir(d);
    if (!found) {
        if (!quiet)
            fprintf(stderr, "cr_info: %s: a directory without checkpoint generations or "
                    "context.* files\n", path);
        return ENOENT;
    }
    return status;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = { { "quiet", no_argument, NULL, 'q' },
                                          { "json", no_argument, NULL, 'j' },
                                          { "help", no_argument, NULL, 'h' },
                                          { "version", no_argument, NULL, 'V' },
                                          { NULL, 0, NULL, 0 } };
    int quiet = 0, c, status = 0;
    while ((c = getopt_long(argc, argv, "qjhV", opts, NULL)) != -1) {
        switch (c) {
        case 'q': quiet = 1; break;
        case 'j': json = 1; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("cr_info (slurm-cr) %s\n", PACKAGE_VERSION); return 0;
        default: usage(stderr); return EINVAL;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return EINVAL;
    }
    for (int i = optind; i < argc; i++) {
        int rc = check_path(argv[i], quiet);
        if (rc && !status)
            status = rc;
    }
    return status;
}
