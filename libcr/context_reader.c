#define _GNU_SOURCE
#include "context_reader.h"
#include "say.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "crc32c.h"

#define PAGE 4096ULL
#define USER_TOP 0x800000000000ULL
#define MAX_THREADS 4096
#define MAX_FDS CTX_FD_NUMBER_MAX
#define MAX_LOCKS (1 << 20)

/* Reads [off, off + n) of fd whole, or refuses: "truncated WHAT" (EIO) where the
 * file ends first, else the read's own error, named (a failing disk says EIO, and
 * then the file may well be intact: it is not called damaged). */
static int read_part(int fd, void *buf, size_t n, uint64_t off, char *err, size_t len,
                     const char *what)
{
    int rc = ctx_read_at(fd, buf, n, off);
    if (rc == 0)
        return 0;
    struct stat st;
    if (rc == -EIO && fstat(fd, &st) == 0 && (uint64_t)st.st_size < off + n)
        return cr_say(err, len, EIO, "truncated %s", what);
    return cr_say(err, len, -rc, "reading %zu bytes at offset %llu (%s): %s", n,
                  (unsigned long long)off, what, strerror(-rc));
}

const char *ctx_vma_kind_name(uint32_t kind)
{
    static const char *const names[] = { "?", "anon", "file-private", "file-shared",
                                         "shared-anon", "vdso", "vvar", "vvar_vclock", "vsyscall" };
    return kind < sizeof names / sizeof *names ? names[kind] : "?";
}

static const char *rec_name(uint32_t type)
{
    if (type == CTX_REC_SOCK_ATTACH)
        return "socket attachment";
    if (type == CTX_REC_THREAD_REGS)
        return "thread registers";
    if (type == CTX_REC_PENDING)
        return "pending signals";
    if (type == CTX_REC_PARENT)
        return "parent";
    if (type == CTX_REC_STOPPED)
        return "stopped process";
    if (type == CTX_REC_PID_MAP)
        return "pid map";
    if (type == CTX_REC_DNOTIFY)
        return "dnotify";
    if (type == CTX_REC_PARENT_PAGES)
        return "parent's pages";
    static const char *const names[] = { "?", "process", "thread", "fd", "memory map",
                                         "block table", "block checksums", "end", "tree process",
                                         "lock", "epoll target", "deleted directory",
                                         "fd owner", "?", "?", "?", "?", "?", "?",
                                         "compressed block table" };
    return type < sizeof names / sizeof *names ? names[type] : "unknown";
}

static size_t vma_guards_offset(const struct ctx_vma *v)
{
    return (sizeof *v + v->path_len + 7) & ~(size_t)7;
}

uint32_t ctx_vma_guards(const struct ctx_vma *v, const struct ctx_range **runs)
{
    const struct ctx_rec *r = (const struct ctx_rec *)v - 1;
    size_t off = vma_guards_offset(v);
    *runs = (const struct ctx_range *)((const char *)v + off);
    return (v->flags & CTX_VMA_GUARDS) ? (uint32_t)((r->length - off) / sizeof **runs) : 0;
}

/* A region's record holds its path and, with CTX_VMA_GUARDS, nothing but ordered
 * guard runs of whole pages inside the region after it. */
static int check_vma_tail(const struct ctx_vma *v, uint32_t payload)
{
    size_t off = vma_guards_offset(v);
    if (!(v->flags & CTX_VMA_GUARDS))
        return payload == off;
    if (payload <= off || (payload - off) % sizeof(struct ctx_range))
        return 0;
    const struct ctx_range *g;
    uint32_t n = ctx_vma_guards(v, &g);
    for (uint32_t i = 0; i < n; i++)
        if (g[i].start % PAGE || g[i].end % PAGE || g[i].start >= g[i].end ||
            g[i].start < (i ? g[i - 1].end : v->start) || g[i].end > v->end)
            return 0;
    return 1;
}

/* A string at the end of a record's payload: exactly `len` bytes, NUL only at the end. */
static int check_tail(const void *rec, size_t fixed, uint32_t len, uint32_t payload, int allow_empty)
{
    if (len == 0)
        return allow_empty;
    if (fixed + len > payload)
        return 0;
    const char *s = (const char *)rec + fixed;
    return memchr(s, 0, len) == s + len - 1;
}

static int check_header(const struct ctx_header *h, uint64_t size, char *err, size_t len)
{
    if (memcmp(h->magic, CTX_MAGIC, CTX_MAGIC_LEN))
        return cr_say(err, len, EINVAL, "not a slurm-cr context file (bad magic)");
    if (h->version > CTX_VERSION)
        return cr_say(err, len, ENOTSUP, "made by a newer slurm-cr (format version %u); this "
                      "one reads version %u: restart it with that release", h->version, CTX_VERSION);
    if (h->version != CTX_VERSION)
        return cr_say(err, len, EINVAL, "unknown format version %u", h->version);
    if (h->header_size != sizeof *h)
        return cr_say(err, len, EINVAL, "header size %u, expected %zu", h->header_size, sizeof *h);
    if (crc32c(0, h, offsetof(struct ctx_header, header_crc)) != h->header_crc || h->pad)
        return cr_say(err, len, EBADMSG, "checksum mismatch in the header");
    if (h->arch != CTX_ARCH_X86_64)
        return cr_say(err, len, ENOEXEC, "made on another architecture (ELF machine %u); this is "
                      "x86_64", h->arch);
    if (h->page_size != (uint32_t)sysconf(_SC_PAGESIZE))
        return cr_say(err, len, ENOEXEC, "made with %u-byte pages; this system uses %ld",
                      h->page_size, sysconf(_SC_PAGESIZE));
    if (!memchr(h->kernel_release, 0, sizeof h->kernel_release) ||
        !memchr(h->glibc_version, 0, sizeof h->glibc_version))
        return cr_say(err, len, EBADMSG, "malformed header strings");
    if (h->flags & ~(uint32_t)(CTX_HDR_TREE | CTX_HDR_COMPRESSED | CTX_HDR_PTRACE | CTX_HDR_INCREMENTAL |
                               CTX_HDR_PRECOPY) ||
        (h->flags & CTX_HDR_TREE && h->flags & (CTX_HDR_PTRACE | CTX_HDR_COMPRESSED | CTX_HDR_INCREMENTAL)) ||
        (h->flags & CTX_HDR_PRECOPY && h->flags & (CTX_HDR_TREE | CTX_HDR_COMPRESSED | CTX_HDR_INCREMENTAL)) ||
        h->scope < CTX_SCOPE_PROC || h->scope > CTX_SCOPE_TREE ||
        (h->flags & CTX_HDR_TREE ? h->nproc < 1 || h->nproc > 65536 || h->nblocks ||
                                   h->nrecords != h->nproc ||
                                   h->records_length != (uint64_t)h->nproc *
                                       (sizeof(struct ctx_rec) + sizeof(struct ctx_tree_proc))
                                 : h->nproc != 1))
        return cr_say(err, len, EBADMSG, "header: %u processes with scope %u", h->nproc, h->scope);
    if (h->records_offset != sizeof *h || h->records_length > size ||
        h->records_offset + h->records_length > size)
        return cr_say(err, len, EIO, "truncated: the metadata needs %llu bytes, the file has %llu",
                      (unsigned long long)(h->records_offset + h->records_length),
                      (unsigned long long)size);
    if (h->data_offset % PAGE || h->data_offset < h->records_offset + h->records_length ||
        (!(h->flags & CTX_HDR_PRECOPY) && h->data_offset - (h->records_offset + h->records_length) >= PAGE) ||
        h->data_length % PAGE || h->data_length > size ||
        h->trailer_offset != h->data_offset + h->data_length || h->trailer_offset > size)
        return cr_say(err, len, EIO, "truncated or malformed: data at %llu+%llu, trailer at %llu, "
                      "file size %llu", (unsigned long long)h->data_offset,
                      (unsigned long long)h->data_length, (unsigned long long)h->trailer_offset,
                      (unsigned long long)size);
    if (!(h->flags & CTX_HDR_COMPRESSED) && h->nblocks > h->data_length / PAGE)
        return cr_say(err, len, EBADMSG, "header: %u blocks in %llu bytes", h->nblocks,
                      (unsigned long long)h->data_length);
    return 0;
}

/* An array of n pointers that records are appended to: full at 0 and at each power of
 * two, then doubled. */
static int grow(void **arr, uint32_t n)
{
    if (n & (n - 1))
        return 0;
    void *more = realloc(*arr, (n ? 2 * (size_t)n : 1) * sizeof(void *));
    if (!more)
        return -1;
    *arr = more;
    return 0;
}

/* Walks the metadata records and checks each one's framing and checksum. */
static int parse_records(struct ctx_image *img, char *err, size_t len)
{
    const struct ctx_header *h = &img->hdr;
    uint64_t off = 0, end = h->records_length;
    uint32_t seq = 0, nthreads = 0, nfds = 0, nvmas = 0;
    const struct ctx_proc *p = NULL;
    int have_blocks = 0;
    uint32_t last = 0; /* the previous record's type */
    while (off < end) {
        if (end - off < sizeof(struct ctx_rec))
            return cr_say(err, len, EIO, "truncated at record %u", seq);
        struct ctx_rec *r = (struct ctx_rec *)(img->meta + off);
        if (r->length > end - off - sizeof *r || r->length % 8)
            return cr_say(err, len, EIO, "truncated at record %u (%s): length %u", seq,
                          rec_name(r->type), r->length);
        if (r->seq != seq)
            return cr_say(err, len, EBADMSG, "record %u is numbered %u", seq, r->seq);
        if (crc32c(crc32c(0, r, 12), r + 1, r->length) != r->crc)
            return cr_say(err, len, EBADMSG, "checksum mismatch in record %u (%s)", seq,
                          rec_name(r->type));
        void *pl = r + 1;
        switch (r->type) {
        case CTX_REC_PROC:
            if (p || r->length < sizeof *p)
                return cr_say(err, len, EBADMSG, "record %u: unexpected process record", seq);
            p = pl;
            if (p->nthreads < 1 || p->nthreads > MAX_THREADS || p->nfds > MAX_FDS ||
                p->nvmas > 65536 * 4 || p->auxv_words > CTX_AUXV_MAX ||
                p->nblocks != h->nblocks || p->first_block != 0 || p->exe_len == 0 ||
                !check_tail(p, sizeof *p, p->exe_len, r->length, 0) ||
                !check_tail(p, sizeof *p + p->exe_len, p->cwd_len, r->length, 0) ||
                p->cwd_len == 0 || !memchr(p->comm, 0, sizeof p->comm) || p->ctty_pts < 0)
                return cr_say(err, len, EBADMSG, "record %u: malformed process record", seq);
            img->proc = p;
            img->exe = (const char *)(p + 1);
            img->cwd = img->exe + p->exe_len;
            if ((h->flags & CTX_HDR_PTRACE) && p->runtime_state)
                return cr_say(err, len, EBADMSG, "record %u: an image of a process without the "
                              "runtime names the runtime's state", seq);
            img->threads = calloc(p->nthreads, sizeof *img->threads);
            img->regs = calloc(p->nthreads, sizeof *img->regs);
            img->fds = calloc(p->nfds + 1, sizeof *img->fds);
            img->vmas = calloc(p->nvmas + 1, sizeof *img->vmas);
            if (!img->threads || !img->regs || !img->fds || !img->vmas)
                return cr_say(err, len, ENOMEM, "out of memory");
            break;
        case CTX_REC_THREAD_REGS: { /* right after its thread, in a ptrace image only */
            const struct ctx_thread_regs *tr = pl;
            const struct ctx_thread *t = nthreads ? img->threads[nthreads - 1] : NULL;
            if (!(h->flags & CTX_HDR_PTRACE) || last != CTX_REC_THREAD || !t ||
                r->length < sizeof *tr || tr->tid != t->tid ||
                tr->xsave_len < CTX_XSAVE_MIN || tr->xsave_len > CTX_XSAVE_MAX ||
                tr->xsave_len % 8 || r->length != sizeof *tr + tr->xsave_len ||
                (tr->rseq_addr ? tr->rseq_addr % 32 || tr->rseq_addr >= USER_TOP ||
                                     tr->rseq_len < 32 || tr->rseq_len > 4096
                               : tr->rseq_len || tr->rseq_sig) ||
                tr->affinity_len > sizeof tr->affinity || tr->affinity_len % 8 ||
                (uint32_t)tr->nice_ok > 1 || tr->policy < -1 || tr->policy > 7 ||
                tr->keepcaps < -1 || tr->keepcaps > 1 || tr->timerslack < 0 ||
                tr->proc_attrs != (nthreads == 1) || tr->membarriers > 7 ||
                (nthreads > 1 && (tr->membarriers || tr->thp_disable || tr->oom_score_adj)) ||
                tr->thp_disable < -1 || tr->thp_disable > 1 ||
                tr->oom_score_adj < -1001 || tr->oom_score_adj > 1000 ||
                (nthreads > 1 && (tr->mdwe || tr->mcl_future)) || tr->mdwe < -1 || tr->mdwe > 3 ||
                (tr->mcl_future && tr->mcl_future != MCL_FUTURE &&
                 tr->mcl_future != (MCL_FUTURE | MCL_ONFAULT)) ||
                tr->ioprio < -1 || tr->ioprio > 0xffff || tr->tsc < 0 || tr->tsc > 2)
                return cr_say(err, len, EBADMSG, "record %u: unexpected or malformed thread "
                              "registers", seq);
            if (tr->regs[CTX_UREG_CS] != 0x33 || tr->regs[CTX_UREG_SS] != 0x2b ||
                tr->regs[CTX_UREG_FS_BASE] != t->fs_base || tr->regs[CTX_UREG_GS_BASE] != t->gs_base ||
                tr->regs[CTX_UREG_RIP] >= USER_TOP || tr->regs[CTX_UREG_RSP] >= USER_TOP ||
                t->resume.rip || t->resume.rsp || t->frame_addr)
                return cr_say(err, len, EBADMSG, "record %u: the registers of thread %d are not "
                              "those of a 64-bit program's thread (cs 0x%llx, ss 0x%llx)", seq,
                              t->tid, (unsigned long long)tr->regs[CTX_UREG_CS],
                              (unsigned long long)tr->regs[CTX_UREG_SS]);
            img->regs[nthreads - 1] = tr;
            break;
        }
        case CTX_REC_PENDING: { /* after its thread's registers, in a ptrace image only */
            const struct ctx_pending *pd = pl;
            const struct ctx_thread *t = nthreads ? img->threads[nthreads - 1] : NULL;
            const struct ctx_pending *before = img->npending ? img->pending[img->npending - 1] : NULL;
            if (!(h->flags & CTX_HDR_PTRACE) || !t || r->length < sizeof *pd ||
                (last != CTX_REC_THREAD_REGS && last != CTX_REC_PENDING) || pd->tid != t->tid ||
                pd->shared > 1 || (pd->shared && nthreads != 1) || pd->pad || pd->count < 1 ||
                pd->count > CTX_PENDING_MAX ||
                r->length != sizeof *pd + (uint64_t)pd->count * CTX_SIGINFO_SIZE ||
                (last == CTX_REC_PENDING && (!before || before->tid != pd->tid ||
                                             before->shared >= pd->shared)))
                return cr_say(err, len, EBADMSG, "record %u: unexpected or malformed pending "
                              "signals", seq);
            for (uint32_t i = 0; i < pd->count; i++) {
                int32_t signo;
                memcpy(&signo, (const char *)(pd + 1) + (size_t)i * CTX_SIGINFO_SIZE, sizeof signo);
                if (signo < 1 || signo > 64)
                    return cr_say(err, len, EBADMSG, "record %u: pending signal %d", seq, signo);
            }
            if (grow((void *)&img->pending, img->npending) < 0)
                return cr_say(err, len, ENOMEM, "out of memory");
            img->pending[img->npending++] = pd;
            break;
        }
        case CTX_REC_THREAD: {
            const struct ctx_thread *t = pl;
            if (!p || nthreads >= p->nthreads || nfds || nvmas || r->length < sizeof *t ||
                t->index != nthreads || !memchr(t->comm, 0, sizeof t->comm))
                return cr_say(err, len, EBADMSG, "record %u: unexpected thread record", seq);
            img->threads[nthreads++] = t;
            break;
        }
        case CTX_REC_FD: {
            const struct ctx_fd *f = pl;
            /* the framing here, the kind's own fields by its validator (resources/) */
            if (!p || nthreads != p->nthreads || nfds >= p->nfds || nvmas || r->length < sizeof *f ||
                f->fd < 0 || f->fd >= MAX_FDS || !check_tail(f, sizeof *f, f->path_len, r->length, 0) ||
                f->extra_len > r->length - sizeof *f - f->path_len ||
                (nfds && f->fd <= img->fds[nfds - 1]->fd) || !ctx_fd_record_ok(f, img->fds, nfds))
                return cr_say(err, len, EBADMSG, "record %u: malformed fd record", seq);
            img->fds[nfds++] = f;
            break;
        }
        case CTX_REC_LOCK: {
            const struct ctx_lock *l = pl;
            if (!p || !nfds || nvmas || r->length < sizeof *l || l->fd != img->fds[nfds - 1]->fd ||
                l->kind < CTX_LOCK_FLOCK || l->kind > CTX_LOCK_LEASE || l->type > 1 || l->pad ||
                (l->kind == CTX_LOCK_FLOCK || l->kind == CTX_LOCK_LEASE ? l->start || l->len
                                           : l->start > INT64_MAX || l->len > INT64_MAX - l->start) ||
                img->nlocks >= MAX_LOCKS)
                return cr_say(err, len, EBADMSG, "record %u: malformed lock record", seq);
            if (grow((void *)&img->locks, img->nlocks) < 0)
                return cr_say(err, len, ENOMEM, "out of memory");
            img->locks[img->nlocks++] = l;
            break;
        }
        case CTX_REC_EPOLL_FILE: {
            const struct ctx_epoll_file *e = pl;
            const struct ctx_fd *ep = nfds ? img->fds[nfds - 1] : NULL;
            if (!p || !ep || nvmas || r->length < sizeof *e || ep->kind != CTX_FD_EPOLL ||
                e->epoll_fd != ep->fd || e->target >= ep->extra_len / sizeof(struct ctx_epoll_target) ||
                e->holder < 0 || e->holder >= MAX_FDS || e->pad || img->nepoll_files >= MAX_FDS)
                return cr_say(err, len, EBADMSG, "record %u: malformed epoll target record", seq);
            if (grow((void *)&img->epoll_files, img->nepoll_files) < 0)
                return cr_say(err, len, ENOMEM, "out of memory");
            img->epoll_files[img->nepoll_files++] = e;
            break;
        }
        case CTX_REC_FD_OWNER: {
            const struct ctx_fd_owner *o = pl;
            if (!p || !nfds || nvmas || r->length < sizeof *o || o->fd != img->fds[nfds - 1]->fd ||
                o->type > CTX_OWNER_PGRP || o->pid < 0 || o->sig >= CTX_NSIG ||
                img->nowners >= MAX_FDS)
                return cr_say(err, len, EBADMSG, "record %u: malformed fd owner record", seq);
            if (grow((void *)&img->owners, img->nowners) < 0)
                return cr_say(err, len, ENOMEM, "out of memory");
            img->owners[img->nowners++] = o;
            break;
        }
        case CTX_REC_DNOTIFY: { /* right after its directory's owner */
            const struct ctx_dnotify *dn = pl;
            const struct ctx_fd *f = nfds ? img->fds[nfds - 1] : NULL;
            if (!p || !f || nvmas || last != CTX_REC_FD_OWNER || r->length != sizeof *dn ||
                dn->fd != f->fd || img->owners[img->nowners - 1]->fd != dn->fd ||
                f->kind != CTX_FD_DIR || !(dn->mask & DN_MULTISHOT) ||
                (dn->mask & ~(uint32_t)(DN_ACCESS | DN_MODIFY | DN_CREATE | DN_DELETE | DN_RENAME |
                                        DN_ATTRIB | DN_MULTISHOT)) ||
                img->ndnotifies >= MAX_FDS)
                return cr_say(err, len, EBADMSG, "record %u: malformed dnotify record", seq);
            if (grow((void *)&img->dnotifies, img->ndnotifies) < 0)
                return cr_say(err, len, ENOMEM, "out of memory");
            img->dnotifies[img->ndnotifies++] = dn;
            break;
        }
        case CTX_REC_SOCK_ATTACH: {
            const struct ctx_sock_attach *a = pl;
            const struct ctx_fd *f = nfds ? img->fds[nfds - 1] : NULL;
            if (!p || !f || nvmas || r->length < sizeof *a || img->nattached >= MAX_FDS ||
                !ctx_sock_attach_ok(a, r->length, f))
                return cr_say(err, len, EBADMSG, "record %u: malformed socket filter or multicast "
                              "membership record", seq);
            if (grow((void *)&img->attached, img->nattached) < 0)
                return cr_say(err, len, ENOMEM, "out of memory");
            img->attached[img->nattached++] = a;
            break;
        }
        case CTX_REC_STOPPED: { /* right after the process record */
            const struct ctx_stopped *st = pl;
            if (!p || last != CTX_REC_PROC || r->length != sizeof *st || st->signal != SIGSTOP ||
                st->pad || img->stopped || (h->flags & CTX_HDR_PTRACE))
                return cr_say(err, len, EBADMSG, "record %u: malformed stopped-process record", seq);
            img->stopped = st;
            break;
        }
        case CTX_REC_PID_MAP: { /* after the process record, before its threads */
            const struct ctx_pid_map *pm = pl;
            int bad = !p || nthreads || nfds || nvmas || img->pid_map || (h->flags & CTX_HDR_PTRACE) ||
                      r->length < sizeof *pm || !pm->addr || (pm->addr & 7) || pm->cap == 0 ||
                      pm->cap > 4096 || pm->n > pm->cap ||
                      r->length != sizeof *pm + (uint64_t)pm->n * sizeof(struct ctx_pid_pair);
            const struct ctx_pid_pair *e = (const void *)(pm + 1);
            for (uint32_t i = 0; !bad && i < pm->n; i++)
                bad = e[i].known <= 0 || e[i].real <= 0;
            if (bad)
                return cr_say(err, len, EBADMSG, "record %u: malformed pid map record", seq);
            img->pid_map = pm;
            break;
        }
        case CTX_REC_DELETED_DIR: {
            const struct ctx_deleted_dir *dd = pl;
            const struct ctx_fd *f = nfds ? img->fds[nfds - 1] : NULL;
            if (!p || r->length < sizeof *dd || !S_ISDIR(dd->mode) || nvmas ||
                (dd->fd == -1 ? nthreads || img->cwd_deleted || img->cwd[0] != '/'
                              : !f || f->fd != dd->fd ||
                                    (f->kind != CTX_FD_DIR && f->kind != CTX_FD_OPATH) ||
                                    !(f->flags & CTX_FD_DELETED) || f->id.mode != dd->mode ||
                                    ((const char *)(f + 1))[0] != '/'))
                return cr_say(err, len, EBADMSG, "record %u: malformed deleted directory record", seq);
            if (dd->fd == -1)
                img->cwd_deleted = dd;
            break;
        }
        case CTX_REC_VMA: {
            const struct ctx_vma *v = pl;
            if (!p || nfds != p->nfds || nthreads != p->nthreads || nvmas >= p->nvmas ||
                r->length < sizeof *v || v->start % PAGE || v->end % PAGE || v->start >= v->end ||
                (v->end > USER_TOP && v->kind != CTX_VMA_VSYSCALL) || v->prot > 7 ||
                v->kind < CTX_VMA_ANON || v->kind > CTX_VMA_VSYSCALL || v->pgoff % PAGE ||
                (v->flags & ~(uint32_t)CTX_VMA_KNOWN_FLAGS) ||
                ((v->flags & (CTX_VMA_ADVICE | CTX_VMA_SEALED)) && v->kind >= CTX_VMA_VDSO) ||
                ((v->flags & CTX_VMA_LOCKONFAULT) && !(v->flags & CTX_VMA_LOCKED)) ||
                ((v->flags & CTX_VMA_HUGEPAGE) && (v->flags & CTX_VMA_NOHUGEPAGE)) ||
                ((v->flags & CTX_VMA_GUARDS) && v->kind >= CTX_VMA_VDSO) ||
                ((v->flags & CTX_VMA_MAYWRITE) && !(v->flags & CTX_VMA_SYSV)) ||
                ((v->flags & CTX_VMA_SYSV) &&
                 (v->kind != CTX_VMA_SHARED_ANON || v->pgoff || !v->id.size || (v->id.mode & ~(0777u | 02000u)) ||
                  v->id.ino > INT32_MAX || v->end - v->start != (v->id.size + PAGE - 1) / PAGE * PAGE)) ||
                (nvmas && v->start < img->vmas[nvmas - 1]->end) ||
                !check_tail(v, sizeof *v, v->path_len, r->length,
                            v->kind != CTX_VMA_FILE_PRIVATE && v->kind != CTX_VMA_FILE_SHARED) ||
                ((v->kind == CTX_VMA_FILE_PRIVATE || v->kind == CTX_VMA_FILE_SHARED) &&
                 ((const char *)(v + 1))[0] != '/') || !check_vma_tail(v, r->length))
                return cr_say(err, len, EBADMSG, "record %u: malformed memory map entry", seq);
            img->vmas[nvmas++] = v;
            break;
        }
        case CTX_REC_AIO: {
            /* its ring: a region saved whole, named as the kernel names rings; nr events
               after the 32-byte header fill its pages; head and tail inside */
            const struct ctx_aio *a = pl;
            const struct ctx_vma *v = NULL;
            for (uint32_t i = 0; p && i < nvmas && !v; i++)
                if (img->vmas[i]->start == a->addr)
                    v = img->vmas[i];
            if (!p || have_blocks || nvmas != p->nvmas || r->length != sizeof *a || !v ||
                a->len < PAGE || a->len > CTX_AIO_LEN_MAX || a->len % PAGE ||
                v->end - v->start != a->len || v->kind != CTX_VMA_FILE_PRIVATE ||
                !(v->flags & CTX_VMA_SAVED) || (v->prot & 3) != 3 ||
                strcmp((const char *)(v + 1), "/[aio] (deleted)") ||
                a->nr != (a->len - 32) / 32 || a->nr < 2 || a->head >= a->nr || a->tail >= a->nr ||
                a->pad || img->naios >= 64)
                return cr_say(err, len, EBADMSG, "record %u: malformed AIO context record", seq);
            for (uint32_t i = 0; i < img->naios; i++)
                if (img->aios[i]->addr == a->addr)
                    return cr_say(err, len, EBADMSG, "record %u: a second AIO context at 0x%llx",
                                  seq, (unsigned long long)a->addr);
            if (grow((void *)&img->aios, img->naios) < 0)
                return cr_say(err, len, ENOMEM, "out of memory");
            img->aios[img->naios++] = a;
            break;
        }
        case CTX_REC_PARENT: { /* an incremental image's, right before the block table */
            const struct ctx_parent *pa = pl;
            if (!(h->flags & CTX_HDR_INCREMENTAL) || !p || have_blocks || img->parent ||
                nvmas != p->nvmas || r->length < sizeof *pa || pa->name_len < 2 ||
                pa->name_len > CTX_PATH_MAX || r->length != ((sizeof *pa + pa->name_len + 7) & ~7UL) ||
                !check_tail(pa, sizeof *pa, pa->name_len, r->length, 0) || pa->depth < 1 ||
                pa->depth >= CTX_CHAIN_MAX || pa->file_length < sizeof(struct ctx_header) ||
                pa->nruns > (end - off) / sizeof(struct ctx_parent_run))
                return cr_say(err, len, EBADMSG, "record %u: malformed parent record", seq);
            img->parent = pa;
            img->parent_name = (const char *)(pa + 1);
            break;
        }
        case CTX_REC_PARENT_PAGES:
            if (last != CTX_REC_PARENT ||
                r->length != img->parent->nruns * sizeof(struct ctx_parent_run))
                return cr_say(err, len, EBADMSG, "record %u: malformed table of the parent's pages",
                              seq);
            img->runs = pl;
            img->nruns = img->parent->nruns;
            break;
        case CTX_REC_BLOCKS:
            if ((img->parent && !img->runs && img->parent->nruns) || last == CTX_REC_PARENT)
                return cr_say(err, len, EBADMSG, "record %u: the parent record has no table of its "
                              "pages", seq);
            if (!p || have_blocks || nvmas != p->nvmas ||
                r->length != ((h->nblocks * sizeof(struct ctx_block) + 7) & ~7UL))
                return cr_say(err, len, EBADMSG, "record %u: malformed block table", seq);
            img->blocks = pl;
            have_blocks = 1;
            break;
        case CTX_REC_BLOCK_ZSTD: /* right after the block table, in a compressed image only */
            if (!(h->flags & CTX_HDR_COMPRESSED) || !have_blocks || img->zblocks ||
                last != CTX_REC_BLOCKS ||
                r->length != ((h->nblocks * sizeof(struct ctx_block_zstd) + 7) & ~7UL))
                return cr_say(err, len, EBADMSG, "record %u: malformed compressed block table", seq);
            img->zblocks = pl;
            break;
        default:
            return cr_say(err, len, EBADMSG, "record %u has unknown type %u", seq, r->type);
        }
        last = r->type;
        off += sizeof *r + r->length;
        seq++;
    }
    if (!p || !have_blocks || seq != h->nrecords)
        return cr_say(err, len, EIO, "truncated at record %u: the metadata is incomplete", seq);
    for (uint32_t i = 0; (h->flags & CTX_HDR_PTRACE) && i < p->nthreads; i++)
        if (!img->regs[i])
            return cr_say(err, len, EBADMSG, "thread %d has no registers (an image of a process "
                          "without the runtime needs them)", img->threads[i]->tid);
    if ((h->flags & CTX_HDR_INCREMENTAL) && !img->parent)
        return cr_say(err, len, EBADMSG, "the header says the image is incremental, but it names "
                      "no parent");
    if ((h->flags & CTX_HDR_COMPRESSED) && !img->zblocks)
        return cr_say(err, len, EBADMSG, "the header says the image is compressed, but it has no "
                      "compressed block table");
    return 0;
}

/* The bytes between the metadata and the first memory block must be zero: no byte of
 * the file escapes a check. */
static int check_padding(struct ctx_image *img, char *err, size_t len)
{
    const struct ctx_header *h = &img->hdr;
    uint64_t from = h->records_offset + h->records_length;
    char pad[PAGE];
    /* (a pre-copied image reserved room for its records: more than a page of zeros) */
    while (from < h->data_offset) {
        size_t n = h->data_offset - from < PAGE ? (size_t)(h->data_offset - from) : PAGE;
        int rc = read_part(img->fd, pad, n, img->base + from, err, len, "before the memory data");
        if (rc < 0)
            return rc;
        for (size_t i = 0; i < n; i++)
            if (pad[i])
                return cr_say(err, len, EBADMSG, "garbage at offset %llu, before the memory data",
                              (unsigned long long)(from + i));
        from += n;
    }
    return 0;
}

static int by_offset(const void *a, const void *b)
{
    const struct ctx_block *p = *(const struct ctx_block *const *)a, *q = *(const struct ctx_block *const *)b;
    return p->file_offset < q->file_offset ? -1 : p->file_offset > q->file_offset;
}

/* A pre-copied image (CTX_HDR_PRECOPY): its raw blocks anywhere in the data area, at
 * pages, never over one another. */
static int check_precopy_layout(struct ctx_image *img, char *err, size_t len)
{
    const struct ctx_header *h = &img->hdr;
    const struct ctx_block **order = malloc((h->nblocks + 1) * sizeof *order);
    if (!order)
        return cr_say(err, len, ENOMEM, "out of memory");
    int rc = 0;
    for (uint32_t i = 0; i < h->nblocks; i++) {
        const struct ctx_block *b = &img->blocks[i];
        uint64_t size = (uint64_t)b->npages * PAGE;
        if (b->npages == 0 || b->npages > CTX_BLOCK_MAX_PAGES || b->file_offset % PAGE ||
            b->file_offset < h->data_offset || b->file_offset > h->trailer_offset ||
            h->trailer_offset - b->file_offset < size) {
            rc = cr_say(err, len, EBADMSG, "block %u is outside the data area (at %llu, %llu "
                        "bytes; the data is %llu-%llu)", i, (unsigned long long)b->file_offset,
                        (unsigned long long)size, (unsigned long long)h->data_offset,
                        (unsigned long long)h->trailer_offset);
            break;
        }
        order[i] = b;
    }
    if (rc == 0)
        qsort(order, h->nblocks, sizeof *order, by_offset);
    for (uint32_t i = 1; rc == 0 && i < h->nblocks; i++)
        if (order[i - 1]->file_offset + (uint64_t)order[i - 1]->npages * PAGE > order[i]->file_offset)
            rc = cr_say(err, len, EBADMSG, "two memory blocks (0x%llx and 0x%llx) share bytes of "
                        "the file", (unsigned long long)order[i - 1]->addr,
                        (unsigned long long)order[i]->addr);
    free(order);
    return rc;
}

static const struct ctx_vma *vma_at(const struct ctx_image *img, uint64_t addr)
{
    for (uint32_t i = 0; i < img->proc->nvmas; i++)
        if (addr >= img->vmas[i]->start && addr < img->vmas[i]->end)
            return img->vmas[i];
    return NULL;
}

/* An incremental image's runs of the parent's memory: each inside a private region
 * the parent can hold, in address order, none over another or over a block. */
static int check_parent_runs(const struct ctx_image *img, char *err, size_t len)
{
    uint32_t b = 0;
    for (uint32_t i = 0; i < img->nruns; i++) {
        const struct ctx_parent_run *r = &img->runs[i];
        const struct ctx_vma *v = r->vma < img->proc->nvmas ? img->vmas[r->vma] : NULL;
        uint64_t end = r->addr + (uint64_t)r->npages * PAGE;
        if (!v || r->npages == 0 || r->npages > CTX_BLOCK_MAX_PAGES || r->addr % PAGE || r->pad ||
            r->addr < v->start || end > v->end ||
            (v->kind != CTX_VMA_ANON && v->kind != CTX_VMA_FILE_PRIVATE) ||
            (v->flags & CTX_VMA_SAVED) ||
            (i && r->addr < img->runs[i - 1].addr + (uint64_t)img->runs[i - 1].npages * PAGE))
            return cr_say(err, len, EBADMSG, "run %u of the parent's pages (at 0x%llx) is malformed "
                          "or out of order", i, (unsigned long long)r->addr);
        /* the memory blocks are in address order too */
        while (b < img->hdr.nblocks && !(img->blocks[b].vma & CTX_BLOCK_FILE) &&
               img->blocks[b].addr + (uint64_t)img->blocks[b].npages * PAGE <= r->addr)
            b++;
        if (b < img->hdr.nblocks && !(img->blocks[b].vma & CTX_BLOCK_FILE) &&
            img->blocks[b].addr < end)
            return cr_say(err, len, EBADMSG, "run %u of the parent's pages (at 0x%llx) overlaps "
                          "memory block %u", i, (unsigned long long)r->addr, b);
    }
    return 0;
}

/* Cross-checks: blocks inside their maps, in file order; threads resume in memory. */
static int check_consistency(struct ctx_image *img, char *err, size_t len)
{
    const struct ctx_header *h = &img->hdr;
    uint64_t off = h->data_offset;
    int files = 0;
    int precopy = (h->flags & CTX_HDR_PRECOPY) != 0;
    if (precopy) {
        int rc = check_precopy_layout(img, err, len);
        if (rc < 0)
            return rc;
    }
    for (uint32_t i = 0; i < h->nblocks; i++) {
        const struct ctx_block *b = &img->blocks[i];
        /* where the block must start: raw at a page, compressed right after the last */
        const struct ctx_block_zstd *z = img->zblocks ? &img->zblocks[i] : NULL;
        uint64_t size = (uint64_t)b->npages * PAGE;
        if (z && z->stored_len) {
            if (z->stored_len < 8 || z->stored_len >= size)
                return cr_say(err, len, EBADMSG, "block %u: compressed to %u bytes, which is not "
                              "between 8 and less than its %llu bytes", i, z->stored_len,
                              (unsigned long long)size);
            size = z->stored_len;
        } else {
            if (z && z->stored_crc)
                return cr_say(err, len, EBADMSG, "block %u is stored raw but has a checksum of "
                              "compressed bytes", i);
            off = (off + PAGE - 1) & ~(PAGE - 1);
        }
        if (precopy) /* checked above: each where it says */
            off = b->file_offset;
        if (b->npages == 0 || b->npages > CTX_BLOCK_MAX_PAGES || b->file_offset != off ||
            off > h->trailer_offset || h->trailer_offset - off < size)
            return cr_say(err, len, EBADMSG, "block %u is not where the layout puts it (at %llu, "
                          "%llu bytes; the data ends at %llu)", i, (unsigned long long)off,
                          (unsigned long long)size, (unsigned long long)h->trailer_offset);
        img->raw_bytes += (uint64_t)b->npages * PAGE;
        img->stored_bytes += size;
        if (b->vma & CTX_BLOCK_FILE) { /* a deleted file's contents, after all memory */
            uint32_t r = b->vma & ~CTX_BLOCK_FILE;
            const struct ctx_fd *f = r < img->proc->nfds ? img->fds[r] : NULL;
            if (!f || (f->kind != CTX_FD_FILE && f->kind != CTX_FD_OPATH) || !S_ISREG(f->id.mode) ||
                !(f->flags & CTX_FD_DELETED) || f->source_fd != -1 || b->npages == 0 ||
                b->npages > CTX_BLOCK_MAX_PAGES || b->addr % PAGE || b->addr >= f->id.size ||
                b->file_offset != off)
                return cr_say(err, len, EBADMSG, "block %u of a deleted file's contents is malformed", i);
            files = 1;
            off += size;
            continue;
        }
        if (files)
            return cr_say(err, len, EBADMSG, "memory block %u comes after file contents", i);
        if (b->vma >= img->proc->nvmas || b->npages == 0 || b->npages > CTX_BLOCK_MAX_PAGES ||
            b->addr % PAGE || b->file_offset != off)
            return cr_say(err, len, EBADMSG, "memory block %u is malformed", i);
        const struct ctx_vma *v = img->vmas[b->vma];
        if (b->addr < v->start || b->addr + (uint64_t)b->npages * PAGE > v->end ||
            (v->kind != CTX_VMA_ANON && v->kind != CTX_VMA_SHARED_ANON &&
             v->kind != CTX_VMA_FILE_PRIVATE && !(v->flags & CTX_VMA_SAVED)) ||
            (i && b->addr < img->blocks[i - 1].addr + (uint64_t)img->blocks[i - 1].npages * PAGE))
            return cr_say(err, len, EBADMSG, "memory block %u at 0x%llx lies outside its map", i,
                          (unsigned long long)b->addr);
        off += size;
    }
    if (img->zblocks)
        off = (off + PAGE - 1) & ~(PAGE - 1);
    if (!precopy && off != h->trailer_offset)
        return cr_say(err, len, EBADMSG, "memory blocks cover %llu bytes, the header says %llu",
                      (unsigned long long)(off - h->data_offset), (unsigned long long)h->data_length);
    int rc = check_parent_runs(img, err, len);
    if (rc < 0)
        return rc;
    for (uint32_t i = 0; i < img->proc->nthreads; i++) {
        const struct ctx_thread *t = img->threads[i];
        if (img->regs && img->regs[i]) { /* resumes where it was interrupted */
            if (!vma_at(img, img->regs[i]->regs[CTX_UREG_RIP]))
                return cr_say(err, len, EBADMSG, "thread %d resumes outside the saved memory", t->tid);
            continue;
        }
        if (!vma_at(img, t->resume.rip) || !vma_at(img, t->resume.rsp - 8) || t->resume.rsp % 8)
            return cr_say(err, len, EBADMSG, "thread %d resumes outside the saved memory", t->tid);
    }
    return 0;
}

static int read_trailer(struct ctx_image *img, char *err, size_t len)
{
    const struct ctx_header *h = &img->hdr;
    struct ctx_rec r;
    uint64_t off = h->trailer_offset;
    uint32_t seq = h->nrecords;
    size_t crcs_len = (h->nblocks * 4 + 7) & ~7UL;
    char what[64];
    snprintf(what, sizeof what, "at record %u (block checksums)", seq);
    if (img->file_size - off < sizeof r + crcs_len)
        return cr_say(err, len, EIO, "truncated %s", what);
    int rc = read_part(img->fd, &r, sizeof r, img->base + off, err, len, what);
    if (rc < 0)
        return rc;
    if (r.type != CTX_REC_BLOCK_CRCS || r.seq != seq || r.length != crcs_len)
        return cr_say(err, len, EBADMSG, "record %u: malformed block checksums", seq);
    img->crcs = malloc(crcs_len ? crcs_len : 1);
    if (!img->crcs)
        return cr_say(err, len, ENOMEM, "out of memory");
    rc = read_part(img->fd, img->crcs, crcs_len, img->base + off + sizeof r, err, len, what);
    if (rc < 0)
        return rc;
    if (crc32c(crc32c(0, &r, 12), img->crcs, crcs_len) != r.crc)
        return cr_say(err, len, EBADMSG, "checksum mismatch in record %u (block checksums)", seq);
    off += sizeof r + crcs_len;
    struct {
        struct ctx_rec r;
        struct ctx_end e;
    } end;
    snprintf(what, sizeof what, "at record %u (end)", seq + 1);
    if (img->file_size - off < sizeof end)
        return cr_say(err, len, EIO, "truncated %s", what);
    rc = read_part(img->fd, &end, sizeof end, img->base + off, err, len, what);
    if (rc < 0)
        return rc;
    if (end.r.type != CTX_REC_END || end.r.seq != seq + 1 || end.r.length != sizeof end.e ||
        crc32c(crc32c(0, &end.r, 12), &end.e, sizeof end.e) != end.r.crc)
        return cr_say(err, len, EBADMSG, "record %u: malformed end record", seq + 1);
    if (end.e.file_length != img->file_size || end.e.nblocks != h->nblocks)
        return cr_say(err, len, EBADMSG, "the file is %llu bytes long; it should be %llu",
                      (unsigned long long)img->file_size, (unsigned long long)end.e.file_length);
    return 0;
}

/* The image of one process at [base, base + size) of fd. */
static int open_image(struct ctx_image *img, char *err, size_t len)
{
    int rc = read_part(img->fd, &img->hdr, sizeof img->hdr, img->base, err, len, "in the header");
    if (rc == 0)
        rc = check_header(&img->hdr, img->file_size, err, len);
    if (rc == 0 && (img->hdr.flags & CTX_HDR_TREE))
        rc = cr_say(err, len, EINVAL, "a file of %u processes where one was expected", img->hdr.nproc);
    if (rc == 0) {
        img->meta = malloc(img->hdr.records_length + 1);
        if (!img->meta)
            rc = cr_say(err, len, ENOMEM, "out of memory for %llu bytes of metadata",
                        (unsigned long long)img->hdr.records_length);
        else
            rc = read_part(img->fd, img->meta, img->hdr.records_length,
                           img->base + img->hdr.records_offset, err, len, "in the metadata");
    }
    if (rc == 0)
        rc = parse_records(img, err, len);
    if (rc == 0)
        rc = check_padding(img, err, len);
    if (rc == 0)
        rc = read_trailer(img, err, len);
    if (rc == 0)
        rc = check_consistency(img, err, len);
    return rc;
}

/* Opens path and checks that it starts like a context file. */
static int open_file(const char *path, int *fdp, uint64_t *size, char *err, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cr_say(err, len, errno, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return cr_say(err, len, EINVAL, "%s is not a regular file", path);
    }
    *size = (uint64_t)st.st_size;
    if (*size < sizeof(struct ctx_header)) {
        char magic[CTX_MAGIC_LEN];
        int rc;
        if (*size >= CTX_MAGIC_LEN && ctx_read_at(fd, magic, sizeof magic, 0) == 0 &&
            !memcmp(magic, CTX_MAGIC, CTX_MAGIC_LEN))
            rc = cr_say(err, len, EIO, "truncated in the header (%llu bytes)",
                        (unsigned long long)*size);
        else
            rc = cr_say(err, len, EINVAL, "not a slurm-cr context file (%llu bytes, no header)",
                        (unsigned long long)*size);
        close(fd);
        return rc;
    }
    *fdp = fd;
    return 0;
}

int ctx_open(const char *path, struct ctx_image *img, char *err, size_t len)
{
    memset(img, 0, sizeof *img);
    int rc = open_file(path, &img->fd, &img->file_size, err, len);
    if (rc < 0) {
        img->fd = -1;
        return rc;
    }
    rc = open_image(img, err, len);
    if (rc < 0)
        ctx_close(img);
    return rc;
}

/* The tree's records, then each image where its record says, zeros in between. */
static int open_tree(struct ctx_tree *t, char *err, size_t len)
{
    const struct ctx_header *h = &t->hdr;
    size_t rlen = (size_t)h->records_length;
    char *recs = malloc(rlen);
    t->procs = calloc(h->nproc, sizeof *t->procs);
    t->images = calloc(h->nproc, sizeof *t->images);
    if (!recs || !t->procs || !t->images) {
        free(recs);
        return cr_say(err, len, ENOMEM, "out of memory");
    }
    t->n = h->nproc;
    int rrc = read_part(t->fd, recs, rlen, h->records_offset, err, len, "in the process table");
    if (rrc < 0) {
        free(recs);
        return rrc;
    }
    uint64_t expect = h->data_offset;
    int rc = 0;
    for (uint32_t i = 0; i < t->n && rc == 0; i++) {
        struct ctx_rec *r = (struct ctx_rec *)(recs + i * (sizeof *r + sizeof(struct ctx_tree_proc)));
        struct ctx_tree_proc *p = (struct ctx_tree_proc *)(r + 1);
        if (r->type != CTX_REC_TREE_PROC || r->seq != i || r->length != sizeof *p ||
            crc32c(crc32c(0, r, 12), p, r->length) != r->crc) {
            rc = cr_say(err, len, EBADMSG, "record %u: malformed or corrupt process entry", i);
            break;
        }
        t->procs[i] = *p;
        t->images[i].fd = -1;
        int parent_ok = p->ppid == 0;
        for (uint32_t j = 0; j < i; j++)
            parent_ok |= t->procs[j].pid == p->ppid;
        for (uint32_t j = 0; j < i; j++)
            if (t->procs[j].pid == p->pid)
                parent_ok = 0;
        if (p->pid <= 0 || p->ppid < 0 || !parent_ok || !memchr(p->comm, 0, sizeof p->comm) ||
            (p->state != CTX_TREE_LIVE && p->state != CTX_TREE_ZOMBIE) ||
            (p->state == CTX_TREE_ZOMBIE && (p->image_offset || p->image_length))) {
            rc = cr_say(err, len, EBADMSG, "record %u: malformed process entry (pid %d)", i, p->pid);
            break;
        }
        if (p->state != CTX_TREE_LIVE)
            continue;
        if (p->image_offset != expect || p->image_length > h->trailer_offset - p->image_offset) {
            rc = cr_say(err, len, EBADMSG, "the image of process %d lies outside the file's data",
                        p->pid);
            break;
        }
        struct ctx_image *img = &t->images[i];
        img->fd = t->fd;
        img->borrowed_fd = 1;
        img->base = p->image_offset;
        img->file_size = p->image_length;
        char sub[400];
        rc = open_image(img, sub, sizeof sub);
        if (rc < 0) {
            cr_say(err, len, -rc, "process %d: %s", p->pid, sub);
            break;
        }
        expect = (p->image_offset + p->image_length + PAGE - 1) & ~(PAGE - 1);
        char pad[PAGE];
        size_t gap = (size_t)(expect - p->image_offset - p->image_length);
        char what[64];
        snprintf(what, sizeof what, "after the image of process %d", p->pid);
        if (expect > h->trailer_offset) {
            rc = cr_say(err, len, EIO, "truncated %s", what);
            break;
        }
        rc = read_part(t->fd, pad, gap, p->image_offset + p->image_length, err, len, what);
        if (rc < 0)
            break;
        for (size_t k = 0; k < gap; k++)
            if (pad[k])
                rc = cr_say(err, len, EBADMSG, "garbage after the image of process %d", p->pid);
    }
    free(recs);
    if (rc == 0 && expect != h->trailer_offset)
        rc = cr_say(err, len, EBADMSG, "the images cover %llu bytes, the header says %llu",
                    (unsigned long long)(expect - h->data_offset), (unsigned long long)h->data_length);
    if (rc == 0 && (t->procs[0].ppid != 0 || t->procs[0].state != CTX_TREE_LIVE))
        rc = cr_say(err, len, EBADMSG, "the tree's first process is not its root");
    struct {
        struct ctx_rec r;
        struct ctx_end e;
    } end;
    if (rc == 0 && t->file_size - h->trailer_offset < sizeof end)
        rc = cr_say(err, len, EIO, "truncated at the end record");
    if (rc == 0)
        rc = read_part(t->fd, &end, sizeof end, h->trailer_offset, err, len, "at the end record");
    if (rc == 0 && (end.r.type != CTX_REC_END || end.r.seq != t->n || end.r.length != sizeof end.e ||
                    crc32c(crc32c(0, &end.r, 12), &end.e, sizeof end.e) != end.r.crc))
        rc = cr_say(err, len, EBADMSG, "record %u: malformed end record", t->n);
    if (rc == 0 && end.e.file_length != t->file_size)
        rc = cr_say(err, len, EBADMSG, "the file is %llu bytes long; it should be %llu",
                    (unsigned long long)t->file_size, (unsigned long long)end.e.file_length);
    return rc;
}

int ctx_tree_open(const char *path, struct ctx_tree *t, char *err, size_t len)
{
    memset(t, 0, sizeof *t);
    t->fd = -1;
    int rc = open_file(path, &t->fd, &t->file_size, err, len);
    if (rc < 0)
        return rc;
    rc = read_part(t->fd, &t->hdr, sizeof t->hdr, 0, err, len, "in the header");
    if (rc == 0)
        rc = check_header(&t->hdr, t->file_size, err, len);
    if (rc == 0 && (t->hdr.flags & CTX_HDR_TREE)) {
        rc = open_tree(t, err, len);
    } else if (rc == 0) { /* one process: a tree of one, its record made up */
        t->n = 1;
        t->procs = calloc(1, sizeof *t->procs);
        t->images = calloc(1, sizeof *t->images);
        if (!t->procs || !t->images)
            rc = cr_say(err, len, ENOMEM, "out of memory");
        if (rc == 0) {
            struct ctx_image *img = &t->images[0];
            img->fd = t->fd;
            img->borrowed_fd = 1;
            img->file_size = t->file_size;
            rc = open_image(img, err, len);
        }
        if (rc == 0) {
            const struct ctx_proc *p = t->images[0].proc;
            t->procs[0] = (struct ctx_tree_proc){ p->pid, 0, p->pgid, p->sid, CTX_TREE_LIVE, 0,
                                                  0, t->file_size, { 0 } };
            memcpy(t->procs[0].comm, p->comm, sizeof p->comm);
        }
    }
    if (rc < 0)
        ctx_tree_close(t);
    return rc;
}

void ctx_tree_close(struct ctx_tree *t)
{
    for (uint32_t i = 0; t->images && i < t->n; i++)
        if (t->images[i].proc || t->images[i].meta)
            ctx_close(&t->images[i]);
    free(t->images);
    free(t->procs);
    if (t->fd >= 0)
        close(t->fd);
    memset(t, 0, sizeof *t);
    t->fd = -1;
}

int ctx_verify_data(struct ctx_image *img, char *err, size_t len)
{
    if (img->zblocks)
        return ctx_unpack_verify(img, err, len);
    size_t cap = CTX_BLOCK_MAX_PAGES * PAGE;
    char *buf = malloc(cap);
    if (!buf)
        return cr_say(err, len, ENOMEM, "out of memory");
    int rc = 0;
    for (uint32_t i = 0; i < img->hdr.nblocks && rc == 0; i++) {
        const struct ctx_block *b = &img->blocks[i];
        size_t n = (size_t)b->npages * PAGE;
        char what[64];
        snprintf(what, sizeof what, "at the memory block 0x%llx", (unsigned long long)b->addr);
        if ((rc = read_part(img->fd, buf, n, img->base + b->file_offset, err, len, what)) < 0)
            ;
        else if (crc32c(0, buf, n) != img->crcs[i])
            rc = cr_say(err, len, EBADMSG, "checksum mismatch in memory block at 0x%llx",
                        (unsigned long long)b->addr);
    }
    free(buf);
    return rc;
}

void ctx_close(struct ctx_image *img)
{
    ctx_chain_close(img);
    if (img->fd >= 0 && !img->borrowed_fd)
        close(img->fd);
    free(img->meta);
    free(img->threads);
    free(img->regs);
    free(img->pending);
    free(img->fds);
    free(img->locks);
    free(img->epoll_files);
    free(img->owners);
    free(img->dnotifies);
    free(img->aios);
    free(img->attached);
    free(img->vmas);
    free(img->crcs);
    if (img->unpack_off)
        close(img->unpack_fd);
    free(img->unpack_off);
    memset(img, 0, sizeof *img);
    img->fd = -1;
}
