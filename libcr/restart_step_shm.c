/* Memory a task shared with other tasks of its step on one node (listed at the
 * checkpoint by the node agent in the generation's shm.NODEID, slurm_checkpoint/
 * step_shm.h), mapped shared again by the restarted tasks, which meet in --step-dir:
 *
 * - the lowest rank that shares an object makes it again from its own image (every
 *   task's image holds the same pages: all were frozen before any was written) and
 *   says so in DIR/shm.NODE.MAJ.MIN.INO, with this node's boot id; the others wait
 *   for that (at most STEP_SHM_WAIT_MS), check they run on the same node, and map it
 *   without writing their copy (the first may be running already);
 * - a System V segment: a new one (its old id when cr_restart may choose it, see
 *   cr_new_sysv_segment), removed at once as it was (IPC_RMID): the others attach it
 *   by its new id while the first holds it;
 * - a deleted file or a memfd: a file in /dev/shm (its name unique to the step's
 *   meeting place), which each maps where it had the memory; removed once every task
 *   that shares it has it open (each leaves DIR/...got.RANK; the last one sees them
 *   all and removes the file and the marks);
 * - a /dev/shm file that kept its name (the agent saved it once, shmfile.* in the
 *   generation): put back at its name, before any task opens it (cr_step_shm_named).
 * Nothing here is a private copy: a task that cannot have the one object fails its
 * restart, naming it. */
#define _GNU_SOURCE
#include "restart_child.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "context_reader.h"

#define STEP_SHM_WAIT_MS 120000 /* the other tasks of the step start within this */
#define MAX_SHARERS 256

static struct step_obj {
    unsigned node, maj, min;
    unsigned long long ino;
    unsigned ranks[MAX_SHARERS];
    int nranks;
    char path[4096];           /* a deleted file's or memfd's: the file made again */
    int fd;                    /* ... open here (read-write), or -1 */
} *objs;
static int nobjs, loaded;
static unsigned my_rank;
static char gen_dir[4200];     /* the generation the image is in */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* one shm.NODE list of the generation: the objects this rank shares */
static void load_list(struct child *c, const char *path, unsigned node)
{
    FILE *f = fopen(path, "re");
    if (!f)
        child_fail(c, errno, "cannot read %s (the memory the tasks shared): %s", path, strerror(errno));
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        struct step_obj o = { .node = node, .fd = -1 };
        int used = 0;
        if (sscanf(line, "%u:%u %llu%n", &o.maj, &o.min, &o.ino, &used) != 3)
            child_fail(c, EINVAL, "%s: a line is not \"MAJ:MIN INO RANK...\": %s", path, line);
        int mine = 0;
        for (char *p = line + used; *p && *p != '\n';) {
            char *end;
            unsigned long r = strtoul(p, &end, 10);
            if (end == p || o.nranks == MAX_SHARERS)
                child_fail(c, EINVAL, "%s: a bad rank list: %s", path, line);
            o.ranks[o.nranks++] = (unsigned)r;
            mine |= r == my_rank;
            p = end + strspn(end, " ");
        }
        if (!mine)
            continue;
        struct step_obj *x = realloc(objs, (size_t)(nobjs + 1) * sizeof *x);
        if (!x)
            child_fail(c, ENOMEM, "out of memory");
        objs = x;
        objs[nobjs++] = o;
    }
    fclose(f);
}

/* the lists next to the image (its generation), once */
static void load(struct child *c)
{
    if (loaded)
        return;
    loaded = 1;
    unsigned tasks = 0;
    const char *src = c->o->src, *slash = src ? strrchr(src, '/') : NULL;
    if (!slash || !cr_step_rank(c, &my_rank, &tasks))
        return; /* not a task of a step checkpointed whole */
    char *dir = gen_dir;
    snprintf(gen_dir, sizeof gen_dir, "%.*s", (int)(slash - src), src);
    DIR *d = opendir(dir);
    if (!d)
        child_fail(c, errno, "cannot read %s: %s", dir, strerror(errno));
    struct dirent *e;
    while ((e = readdir(d))) {
        unsigned node;
        int end = 0;
        if (sscanf(e->d_name, "shm.%u%n", &node, &end) == 1 && !e->d_name[end]) {
            char path[4500];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            load_list(c, path, node);
        }
    }
    closedir(d);
}

/* the object vma i of the image shares with other tasks, or NULL */
static struct step_obj *object_of(struct child *c, uint32_t i)
{
    const struct ctx_vma *v = c->img->vmas[i];
    load(c);
    if (v->kind != CTX_VMA_SHARED_ANON)
        return NULL;
    for (int k = 0; k < nobjs; k++) {
        if (objs[k].ino != v->id.ino || objs[k].maj != major(v->id.dev) || objs[k].min != minor(v->id.dev))
            continue;
        if (!c->o->step_dir) /* alone, it would have a copy of its own */
            child_fail(c, ENOTSUP, "the memory at 0x%llx was shared with rank %u of the step: alone "
                       "this task would get a copy of its own; restart the whole step, each task "
                       "with the same --step-dir (srun --restart-dir does)",
                       (unsigned long long)v->start, objs[k].ranks[objs[k].ranks[0] == my_rank ? 1 : 0]);
        return &objs[k];
    }
    return NULL;
}

static unsigned first_rank(const struct step_obj *o)
{
    unsigned r = o->ranks[0];
    for (int k = 1; k < o->nranks; k++)
        if (o->ranks[k] < r)
            r = o->ranks[k];
    return r;
}

static void meet_path(struct child *c, const struct step_obj *o, char *out, size_t len, const char *what)
{
    snprintf(out, len, "%s/shm.%u.%u.%u.%llu%s", c->o->step_dir, o->node, o->maj, o->min, o->ino, what);
}

/* the /dev/shm file of a deleted file's or memfd's memory when its own name is not to
 * be had: unique to the meeting place */
static void shm_path(struct child *c, const struct step_obj *o, char *out, size_t len)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a of the meeting place's path */
    for (const char *p = c->o->step_dir; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    snprintf(out, len, "/dev/shm/slurm-cr.%u.%016llx.%u.%u.%u.%llu", (unsigned)getuid(),
             (unsigned long long)h, o->node, o->maj, o->min, o->ino);
}

static void boot_id(struct child *c, char *out, size_t len)
{
    int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, out, len - 1) : -1;
    if (fd >= 0)
        close(fd);
    if (n <= 0)
        child_fail(c, errno ? errno : EIO, "cannot read this node's boot id: %s", strerror(errno ? errno : EIO));
    out[n] = 0;
    out[strcspn(out, "\n")] = 0;
}

/* what the first rank said of the object: waited for; on another node, refused */
struct made {
    char boot[64];
    unsigned long long size, ctime;
    int id;
    unsigned cuid;
    char path[4096];
};

static void await_made(struct child *c, const struct step_obj *o, uint32_t vma, struct made *m)
{
    char path[4500], text[4700], boot[64];
    meet_path(c, o, path, sizeof path, "");
    uint64_t until = now_ms() + STEP_SHM_WAIT_MS;
    for (;;) {
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd >= 0) {
            ssize_t n = read(fd, text, sizeof text - 1);
            close(fd);
            text[n > 0 ? n : 0] = 0;
            m->path[0] = 0;
            if (sscanf(text, "boot=%63s size=%llu id=%d ctime=%llu cuid=%u path=%4095[^\n]", m->boot,
                       &m->size, &m->id, &m->ctime, &m->cuid, m->path) < 5)
                child_fail(c, EINVAL, "%s: not what a restarted task writes: %s", path, text);
            break;
        }
        if (errno != ENOENT)
            child_fail(c, errno, "cannot open %s: %s", path, strerror(errno));
        if (now_ms() >= until)
            child_fail(c, ETIMEDOUT, "the memory at 0x%llx, shared with rank %u at the checkpoint, was "
                       "not made again by that rank within %d s (no %s): restart the whole step, "
                       "every task with the same --step-dir", (unsigned long long)c->img->vmas[vma]->start,
                       first_rank(o), STEP_SHM_WAIT_MS / 1000, path);
        nanosleep(&(struct timespec){ 0, 20 * 1000000L }, NULL);
    }
    boot_id(c, boot, sizeof boot);
    if (strcmp(boot, m->boot))
        child_fail(c, EXDEV, "the memory at 0x%llx was shared with rank %u on one node at the "
                   "checkpoint, and this restart runs on another node than that rank's: it cannot "
                   "be shared again; restart the step with the same ranks together on a node (as "
                   "srun placed them: the same -N, -n and distribution)",
                   (unsigned long long)c->img->vmas[vma]->start, first_rank(o));
}

/* this task has the object: its mark, and the last one to have it cleans up */
static void have_it(struct child *c, const struct step_obj *o, int file)
{
    char path[4600], what[64];
    snprintf(what, sizeof what, ".got.%u", my_rank);
    meet_path(c, o, path, sizeof path, what);
    child_publish(c, path, "", 0);
    for (int k = 0; k < o->nranks; k++) {
        snprintf(what, sizeof what, ".got.%u", o->ranks[k]);
        meet_path(c, o, path, sizeof path, what);
        if (access(path, F_OK) < 0)
            return;
    }
    if (file) /* the file first: a mark missing later means it is gone already */
        unlink(o->path);
    meet_path(c, o, path, sizeof path, "");
    unlink(path);
    for (int k = 0; k < o->nranks; k++) {
        snprintf(what, sizeof what, ".got.%u", o->ranks[k]);
        meet_path(c, o, path, sizeof path, what);
        unlink(path);
    }
}

/* an fd record of the image that is the object (a deleted file open as well as mapped:
 * UCX's POSIX memory, which its peers attach through /proc/PID/fd) */
static int fd_is(const struct ctx_fd *f, const struct step_obj *o)
{
    return f->kind == CTX_FD_FILE && (f->flags & CTX_FD_DELETED) && !(f->flags & CTX_FD_MEMFD) &&
           f->id.ino == o->ino && major(f->id.dev) == o->maj && minor(f->id.dev) == o->min;
}

/* the size of the object as this process knows it: the end of its furthest mapping, or
 * the size its fd said */
static uint64_t size_needed(struct child *c, const struct step_obj *o)
{
    uint64_t size = 0;
    for (uint32_t k = 0; k < c->img->proc->nvmas; k++)
        if (object_of(c, k) == o) {
            const struct ctx_vma *w = c->img->vmas[k];
            if (w->pgoff + (w->end - w->start) > size)
                size = w->pgoff + (w->end - w->start);
        }
    for (uint32_t k = 0; k < c->img->proc->nfds; k++)
        if (fd_is(c->img->fds[k], o) && c->img->fds[k]->id.size > size)
            size = c->img->fds[k]->id.size;
    return size;
}

int cr_step_shm_fd(struct child *c, const struct ctx_fd *f, int flags)
{
    for (int k = 0; k < nobjs; k++) {
        if (!fd_is(f, &objs[k]))
            continue;
        if (objs[k].fd < 0)
            child_fail(c, ENOTSUP, "fd %d is memory shared with rank %u of the step that this process "
                       "does not map: not restored shared by this version", f->fd, first_rank(&objs[k]));
        char self[64];
        snprintf(self, sizeof self, "/proc/self/fd/%d", objs[k].fd);
        int fd = open(self, flags | O_CLOEXEC);
        if (fd < 0)
            child_fail(c, errno, "cannot open %s again as fd %d: %s", objs[k].path, f->fd, strerror(errno));
        return fd;
    }
    return -1;
}

/* the first rank: the file made (o->path) and filled with this image's pages.  A
 * /dev/shm file deleted since it was mapped gets its own name back while the tasks
 * open it (what /proc/PID/maps shows is then as it was), unless that name is taken. */
static int make_file(struct child *c, struct step_obj *o, uint32_t vma, uint64_t size)
{
    struct ctx_image *img = c->img;
    for (uint32_t k = 0; img->chain && k < img->chain->npieces; k++)
        if (object_of(c, img->chain->pieces[k].vma) == o)
            child_fail(c, ENOTSUP, "the memory shared with other tasks at 0x%llx is held by a parent "
                       "image (incremental): merge the chain first (cr_checkpoint --merge)",
                       (unsigned long long)img->vmas[img->chain->pieces[k].vma]->start);
    const char *was = img->vmas[vma]->path_len ? (const char *)(img->vmas[vma] + 1) : "";
    size_t len = strlen(was);
    int fd = -1;
    if (!strncmp(was, "/dev/shm/", 9) && len > 10 + 9 && !strcmp(was + len - 10, " (deleted)") &&
        !memchr(was + 9, '/', len - 10 - 9) && len - 10 < sizeof o->path) {
        snprintf(o->path, sizeof o->path, "%.*s", (int)(len - 10), was);
        fd = open(o->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    }
    if (fd < 0) {
        shm_path(c, o, o->path, sizeof o->path);
        unlink(o->path); /* one a failed restart of this same meeting place left */
        fd = open(o->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    }
    const char *path = o->path;
    if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
        child_fail(c, errno, "cannot make %s for the memory the tasks shared: %s", path, strerror(errno));
    char *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED)
        child_fail(c, errno, "cannot map %s: %s", path, strerror(errno));
    /* what its fd saved (the whole file), then its mapped pages (the same, where both) */
    for (uint32_t b = 0; b < img->hdr.nblocks; b++) {
        const struct ctx_block *bl = &img->blocks[b];
        uint32_t rec = bl->vma & ~CTX_BLOCK_FILE;
        if (!(bl->vma & CTX_BLOCK_FILE) || rec >= img->proc->nfds || !fd_is(img->fds[rec], o))
            continue;
        uint64_t fsize = img->fds[rec]->id.size, len = (uint64_t)bl->npages * 4096;
        char why[400];
        if (bl->addr >= fsize)
            continue;
        if (bl->addr + len > (size + 4095) / 4096 * 4096)
            child_fail(c, EINVAL, "the contents saved with fd %d reach past %llu bytes", img->fds[rec]->fd,
                       (unsigned long long)size);
        int rc = ctx_read_block(img, b, base + bl->addr, why, sizeof why);
        if (rc < 0)
            child_fail(c, -rc, "the contents of fd %d: %s", img->fds[rec]->fd, why);
    }
    for (uint32_t b = 0; b < img->hdr.nblocks; b++) {
        const struct ctx_block *bl = &img->blocks[b];
        if ((bl->vma & CTX_BLOCK_FILE) || object_of(c, bl->vma) != o)
            continue;
        const struct ctx_vma *v = img->vmas[bl->vma];
        char why[400];
        int rc = ctx_read_block(img, b, base + v->pgoff + (bl->addr - v->start), why, sizeof why);
        if (rc < 0)
            child_fail(c, -rc, "the memory shared at 0x%llx: %s", (unsigned long long)v->start, why);
    }
    munmap(base, size);
    return fd;
}

void cr_step_shm_files(struct child *c, void (*add_helper)(struct child *, int))
{
    struct ctx_image *img = c->img;
    for (uint32_t i = 0; i < img->proc->nvmas; i++) {
        struct step_obj *o = object_of(c, i);
        if (!o || (img->vmas[i]->flags & CTX_VMA_SYSV) || c->map_fds[i] >= 0)
            continue;
        if (c->pool)
            child_fail(c, ENOTSUP, "the memory at 0x%llx is shared with other tasks of the step and "
                       "this task is a process tree: not restored shared by this version",
                       (unsigned long long)img->vmas[i]->start);
        uint64_t size = size_needed(c, o);
        int fd;
        if (first_rank(o) == my_rank) {
            fd = make_file(c, o, i, size);
            char text[4400], boot[64], path[4500];
            boot_id(c, boot, sizeof boot);
            snprintf(text, sizeof text, "boot=%s size=%llu id=-1 ctime=0 cuid=0 path=%s\n", boot,
                     (unsigned long long)size, o->path);
            meet_path(c, o, path, sizeof path, "");
            child_publish(c, path, text, strlen(text));
        } else {
            struct made m;
            struct stat st;
            await_made(c, o, i, &m);
            snprintf(o->path, sizeof o->path, "%s", m.path);
            fd = m.path[0] == '/' ? open(o->path, O_RDWR | O_CLOEXEC | O_NOFOLLOW) : -1;
            if (fd < 0 || fstat(fd, &st) < 0)
                child_fail(c, m.path[0] == '/' ? errno : EINVAL, "cannot open \"%s\", the memory rank %u "
                           "made again for the tasks that shared it: %s", o->path, first_rank(o),
                           strerror(m.path[0] == '/' ? errno : EINVAL));
            if ((uint64_t)st.st_size < size)
                child_fail(c, ENOTSUP, "the memory at 0x%llx reaches %llu bytes into what it shared "
                           "with rank %u, which mapped only %llu: not restored shared by this version",
                           (unsigned long long)img->vmas[i]->start, (unsigned long long)size,
                           first_rank(o), (unsigned long long)st.st_size);
        }
        fd = move_high(c, fd);
        add_helper(c, fd);
        o->fd = fd;
        for (uint32_t k = i; k < img->proc->nvmas; k++) /* every mapping of it: the pages are there */
            if (object_of(c, k) == o)
                c->map_fds[k] = fd;
        have_it(c, o, 1);
    }
}

int cr_step_shm_sysv(struct child *c, uint32_t vma)
{
    struct step_obj *o = object_of(c, vma);
    if (!o || first_rank(o) == my_rank)
        return -1;
    if (c->pool)
        child_fail(c, ENOTSUP, "the System V segment at 0x%llx is shared with other tasks of the "
                   "step and this task is a process tree: not restored shared by this version",
                   (unsigned long long)c->img->vmas[vma]->start);
    struct made m;
    await_made(c, o, vma, &m);
    return m.id;
}

void cr_step_shm_sysv_attached(struct child *c, uint32_t vma, int id)
{
    struct step_obj *o = object_of(c, vma);
    if (!o)
        return;
    struct shmid_ds ds;
    if (shmctl(id, IPC_STAT, &ds) < 0)
        child_fail(c, errno, "cannot look at the System V segment %d made again for 0x%llx: %s", id,
                   (unsigned long long)c->img->vmas[vma]->start, strerror(errno));
    if (first_rank(o) == my_rank) {
        char text[256], boot[64], path[4500];
        boot_id(c, boot, sizeof boot);
        snprintf(text, sizeof text, "boot=%s size=%llu id=%d ctime=%llu cuid=%u\n", boot,
                 (unsigned long long)ds.shm_segsz, id, (unsigned long long)ds.shm_ctime,
                 (unsigned)ds.shm_perm.cuid);
        meet_path(c, o, path, sizeof path, "");
        child_publish(c, path, text, strlen(text));
    } else {
        struct made m;
        await_made(c, o, vma, &m); /* (read again: what the segment must be) */
        if (m.id != id || (unsigned long long)ds.shm_segsz != m.size || (unsigned long long)ds.shm_ctime != m.ctime ||
            (unsigned)ds.shm_perm.cuid != m.cuid)
            child_fail(c, ESTALE, "System V segment %d is not the one rank %u made again for the "
                       "memory at 0x%llx (gone, its id taken since): restart the whole step", id,
                       first_rank(o), (unsigned long long)c->img->vmas[vma]->start);
    }
    have_it(c, o, 0);
}

/* path and the saved copy: the same size and bytes */
static int same_contents(struct child *c, int a, int b, const char *path)
{
    struct stat sa, sb;
    if (fstat(a, &sa) < 0 || fstat(b, &sb) < 0)
        child_fail(c, errno, "cannot look at %s: %s", path, strerror(errno));
    if (sa.st_size != sb.st_size)
        return 0;
    static char x[65536], y[65536];
    for (off_t off = 0; off < sa.st_size;) {
        ssize_t n = pread(a, x, sizeof x, off), m = n > 0 ? pread(b, y, (size_t)n, off) : -1;
        if (n <= 0 || m != n)
            child_fail(c, n < 0 || m < 0 ? errno : EIO, "cannot read %s: %s", path,
                       strerror(n < 0 || m < 0 ? errno : EIO));
        if (memcmp(x, y, (size_t)n))
            return 0;
        off += n;
    }
    return 1;
}

/* the first rank: the named file put back at its path from the generation's copy (or
 * left as it is when it is there with those very contents: the vacated job's) */
static void put_back(struct child *c, const struct step_obj *o, const struct ctx_vma *v, const char *path)
{
    char saved[4400], tmp[4200], buf[65536];
    snprintf(saved, sizeof saved, "%s/shmfile.%u.%u.%u.%llu", gen_dir, o->node, o->maj, o->min, o->ino);
    int in = open(saved, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (in < 0)
        child_fail(c, errno, "the contents of %s, which the tasks shared, are not in the checkpoint "
                   "(%s: %s)", path, saved, strerror(errno));
    int there = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (there >= 0) {
        int same = same_contents(c, there, in, path);
        close(there);
        close(in);
        if (!same)
            child_fail(c, EEXIST, "%s is there and differs from what the tasks shared at the "
                       "checkpoint (another job's, or changed since): remove it to restart", path);
        return;
    }
    snprintf(tmp, sizeof tmp, "%s.slurm-cr.%d", path, (int)getpid());
    int out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, v->id.mode & 0777);
    if (out < 0)
        child_fail(c, errno, "cannot make %s again: %s", path, strerror(errno));
    for (ssize_t got; (got = read(in, buf, sizeof buf)) != 0;)
        if (got < 0 || write(out, buf, (size_t)got) != got) {
            int e = errno ? errno : EIO;
            unlink(tmp);
            child_fail(c, e, "cannot write %s again: %s", path, strerror(e));
        }
    close(in);
    /* under its name only if still free (link, not rename: nothing is replaced) */
    int e = close(out) < 0 || link(tmp, path) < 0 ? errno : 0;
    unlink(tmp);
    if (e)
        child_fail(c, e, "cannot put %s back: %s", path, strerror(e));
}

void cr_step_shm_named(struct child *c)
{
    struct ctx_image *img = c->img;
    load(c);
    for (uint32_t i = 0; i < img->proc->nvmas; i++) {
        const struct ctx_vma *v = img->vmas[i];
        if (v->kind != CTX_VMA_FILE_SHARED || !v->path_len)
            continue;
        struct step_obj *o = NULL;
        for (int k = 0; k < nobjs && !o; k++)
            if (objs[k].ino == v->id.ino && objs[k].maj == major(v->id.dev) && objs[k].min == minor(v->id.dev))
                o = &objs[k];
        if (!o || o->fd == -2)
            continue; /* not shared with other tasks, or done (another mapping of it) */
        o->fd = -2;
        const char *path = (const char *)(v + 1);
        if (!c->o->step_dir)
            child_fail(c, ENOTSUP, "%s was shared with rank %u of the step: alone this task could "
                       "not put it back for both; restart the whole step, each task with the same "
                       "--step-dir (srun --restart-dir does)", path,
                       o->ranks[o->ranks[0] == my_rank ? 1 : 0]);
        if (first_rank(o) == my_rank) {
            put_back(c, o, v, path);
            char text[4400], boot[64], meet[4500];
            boot_id(c, boot, sizeof boot);
            snprintf(text, sizeof text, "boot=%s size=0 id=-1 ctime=0 cuid=0 path=%s\n", boot, path);
            meet_path(c, o, meet, sizeof meet, "");
            child_publish(c, meet, text, strlen(text));
        } else {
            struct made m;
            await_made(c, o, i, &m); /* (on this node: the first rank put it back here) */
        }
        have_it(c, o, 0);
    }
}

int cr_step_shm_saved_file(const struct cr_restart_opts *o, const struct ctx_vma *v)
{
    const char *slash = o->src ? strrchr(o->src, '/') : NULL;
    if (v->kind != CTX_VMA_FILE_SHARED || !slash)
        return 0;
    char dir[4200], want[128];
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - o->src), o->src);
    snprintf(want, sizeof want, ".%u.%u.%llu", major(v->id.dev), minor(v->id.dev),
             (unsigned long long)v->id.ino);
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = 0;
    while (d && !found && (e = readdir(d))) {
        unsigned node;
        int end = 0;
        found = sscanf(e->d_name, "shmfile.%u%n", &node, &end) == 1 && !strcmp(e->d_name + end, want);
    }
    if (d)
        closedir(d);
    return found;
}
