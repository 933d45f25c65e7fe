/* Regular files and directories, by path and offset, and the /dev/null family: saved
 * as where they lead, opened again there at restart (an O_PATH fd of any file, a kind
 * of its own, as O_PATH; a symbolic link's without following it).  A file deleted while open has its
 * contents saved in the image and comes back as an unnamed file with them. */
#define _GNU_SOURCE
#include "resources.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "context_reader.h"
#include "crc32c.h"

/* ---- dump ---- */

static int is_device_family(const char *path)
{
    static const char *const ok[] = { "/dev/null", "/dev/zero", "/dev/full", "/dev/random",
                                      "/dev/urandom", NULL };
    for (int i = 0; ok[i]; i++)
        if (!strcmp(path, ok[i]))
            return 1;
    return 0;
}

static int save_path(struct dump *d, const struct cr_fd_probe *p, uint32_t kind)
{
    struct ctx_fd *r = fd_record(d, p->fd, kind, p->path, 0);
    if (!r)
        return fail(d, E2BIG, "too much metadata");
    if (kind == CTX_FD_FILE || kind == CTX_FD_DIR) {
        off_t pos = lseek(p->fd, 0, SEEK_CUR);
        r->pos = pos < 0 ? 0 : (uint64_t)pos;
    }
    file_id_of(&p->st, &r->id);
    return 0;
}

static int is_opath(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl >= 0 && (fl & O_PATH);
}

/* A file under /proc/PID of the process itself is saved as /proc/self/... (its main
 * thread's, /proc/PID/task/PID/..., as /proc/thread-self/...): the restarted process
 * opens its own (1, the path in out).  0: not under /proc/PID.  Another process's (or
 * another thread's) is refused: after a restart that number may name another one. */
static int proc_self_path(struct dump *d, const struct cr_fd_probe *p, char *out, size_t cap)
{
    const char *rest = p->path + 6;
    if (strncmp(p->path, "/proc/", 6) || *rest < '0' || *rest > '9')
        return 0;
    char self[32]; /* our pid as /proc names it (the ptrace dumper's: the stopped process's) */
    ssize_t n = d->remote ? snprintf(self, sizeof self, "%d", (int)d->proc->pid)
                          : readlink("/proc/self", self, sizeof self - 1);
    if (n < 0)
        return fail(d, errno, "reading /proc/self");
    self[n] = 0;
    size_t len = strspn(rest, "0123456789");
    if (len != (size_t)n || strncmp(rest, self, len) || (rest[len] != '/' && rest[len] != 0))
        return fail(d, ENOTSUP, "fd %d is %s, a file of another process's /proc: after a restart "
                    "that number may be another process; close it before the checkpoint", p->fd, p->path);
    rest += len;
    const char *self_dir = "/proc/self";
    if (!strncmp(rest, "/task/", 6)) {
        /* the main thread's: cr_restart's child, which opens the fds, becomes it */
        if (strncmp(rest + 6, self, len) || (rest[6 + len] != '/' && rest[6 + len] != 0))
            return fail(d, ENOTSUP, "fd %d is %s, a file of one thread's /proc: a restarted thread "
                        "has another number; close it before the checkpoint", p->fd, p->path);
        self_dir = "/proc/thread-self";
        rest += 6 + len;
    }
    if ((size_t)snprintf(out, cap, "%s%s", self_dir, rest) >= cap)
        return fail(d, ENAMETOOLONG, "fd %d: its path is too long", p->fd);
    return 1;
}

/* The path of a deleted directory without the kernel's " (deleted)" mark. */
static int undeleted_path(struct dump *d, const char *path, char *out, size_t cap)
{
    size_t n = strlen(path);
    if (n > 10 && !strcmp(path + n - 10, " (deleted)"))
        n -= 10;
    if (path[0] != '/' || n >= cap)
        return fail(d, ENOTSUP, "the deleted directory %s has no path", path);
    memcpy(out, path, n);
    out[n] = 0;
    return 0;
}

static int deleted_dir_record(struct dump *d, int fd, uint32_t mode)
{
    struct ctx_deleted_dir *r = rec_add(d, CTX_REC_DELETED_DIR, sizeof *r);
    if (!r)
        return fail(d, E2BIG, "too much metadata");
    *r = (struct ctx_deleted_dir){ .fd = fd, .mode = mode };
    return 0;
}

/* An open directory deleted since: by the path it had, made again at restart. */
static int save_deleted_dir(struct dump *d, const struct cr_fd_probe *p, uint32_t kind)
{
    char path[CTX_PATH_MAX];
    int rc = undeleted_path(d, p->path, path, sizeof path);
    if (rc < 0)
        return rc;
    struct ctx_fd *r = fd_record(d, p->fd, kind, path, 0);
    if (!r)
        return fail(d, E2BIG, "too much metadata");
    r->flags = CTX_FD_DELETED;
    file_id_of(&p->st, &r->id);
    return deleted_dir_record(d, p->fd, r->id.mode);
}

int deleted_cwd(struct dump *d, char *cwd, size_t cap, uint32_t *mode)
{
    char link[CTX_PATH_MAX];
    struct stat st;
    ssize_t n = readlink("/proc/self/cwd", link, sizeof link - 1);
    if (n < 0 || stat(".", &st) < 0)
        return fail(d, errno, "reading the current directory");
    link[n] = 0;
    if (!S_ISDIR(st.st_mode) || st.st_nlink != 0)
        return fail(d, ENOENT, "reading the current directory %s", link);
    *mode = st.st_mode;
    return undeleted_path(d, link, cwd, cap);
}

int deleted_cwd_record(struct dump *d, uint32_t mode)
{
    return deleted_dir_record(d, -1, mode);
}

/* An O_PATH fd, of whatever kind of file (a symbolic link, a device, a FIFO...), only
 * names it: saved as a file is, by path. */
static int detect_file(const struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    (void)d, (void)s;
    return S_ISREG(p->st.st_mode) || S_ISDIR(p->st.st_mode) || is_opath(p->fd);
}

int same_deleted_inode(struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    for (int i = 0; i < s->nseen; i++)
        if (s->seen[i].dev == p->st.st_dev && s->seen[i].ino == p->st.st_ino)
            return d->tree ? fail(d, ENOTSUP, "fd %d and fd %d are two opens of one deleted file, "
                                  "which in a process tree this version cannot save: keep its name "
                                  "until the checkpoint", s->seen[i].fd, p->fd)
                           : s->seen[i].fd;
    return -1;
}

static int save_file(struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    int fd = p->fd;
    const char *path = p->path;
    size_t n = p->len;
    int deleted = p->st.st_nlink == 0 || (n > 10 && !strcmp(path + n - 10, " (deleted)"));
    int opath = is_opath(fd);
    if (S_ISREG(p->st.st_mode) && deleted) {
        /* another open of it, saved before: the same file again, opened through that fd */
        int first = same_deleted_inode(d, s, p);
        if (first < -1)
            return first;
        if (first >= 0) {
            struct ctx_fd *r = fd_record(d, fd, opath ? CTX_FD_OPATH : CTX_FD_FILE, path, 0);
            if (!r)
                return fail(d, E2BIG, "too much metadata");
            off_t pos = lseek(fd, 0, SEEK_CUR);
            r->pos = pos < 0 ? 0 : (uint64_t)pos;
            r->flags = CTX_FD_DELETED;
            r->source_fd = first;
            file_id_of(&p->st, &r->id);
            return 0;
        }
        /* its contents go into the image: nothing else has them any more */
        if (d->ndeleted == (int)(sizeof d->deleted / sizeof d->deleted[0]))
            return fail(d, E2BIG, "fd %d: more than %d deleted files are open", fd, d->ndeleted);
        int seals = strncmp(path, "/memfd:", 7) ? -1 : fcntl(fd, F_GET_SEALS);
        struct ctx_fd *r = fd_record(d, fd, opath ? CTX_FD_OPATH : CTX_FD_FILE, path,
                                     seals >= 0 ? sizeof(struct ctx_memfd) : 0);
        if (!r)
            return fail(d, E2BIG, "too much metadata");
        off_t pos = lseek(fd, 0, SEEK_CUR);
        r->pos = pos < 0 ? 0 : (uint64_t)pos;
        r->flags = CTX_FD_DELETED;
        if (seals >= 0) {
            r->flags |= CTX_FD_MEMFD;
            ((struct ctx_memfd *)((char *)(r + 1) + r->path_len))->seals = (uint32_t)seals;
        }
        file_id_of(&p->st, &r->id);
        d->deleted[d->ndeleted].fd = fd;
        d->deleted[d->ndeleted].rec = d->proc->nfds - 1;
        d->deleted[d->ndeleted].size = (uint64_t)p->st.st_size;
        d->ndeleted++;
        return 0;
    }
    if (deleted && S_ISDIR(p->st.st_mode))
        return save_deleted_dir(d, p, opath ? CTX_FD_OPATH : CTX_FD_DIR);
    if (deleted)
        return fail(d, ENOTSUP, "fd %d (O_PATH): %s was deleted", fd, path);
    if (path[0] != '/')
        return fail(d, ENOTSUP, "fd %d refers to %s, which has no path", fd, path);
    char own[CTX_PATH_MAX];
    int rc = proc_self_path(d, p, own, sizeof own);
    if (rc < 0)
        return rc;
    struct cr_fd_probe as_self = *p;
    if (rc)
        as_self.path = own;
    return save_path(d, &as_self, opath ? CTX_FD_OPATH : S_ISDIR(p->st.st_mode) ? CTX_FD_DIR : CTX_FD_FILE);
}

/* A new open of deleted file number i for reading (its own offset, any access mode
 * the process has it in: write-only, O_PATH), or -errno with the message in d. */
static int open_deleted(struct dump *d, int i)
{
    char self[64];
    int fd = d->deleted[i].fd;
    snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
    int r = open(self, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (r < 0)
        return fail(d, errno, "fd %d: the contents of its deleted file cannot be read for saving "
                    "(opening it again for reading): give its owner read permission", fd);
    return r;
}

int deleted_file_blocks(struct dump *d, int i)
{
    int r = open_deleted(d, i);
    if (r < 0)
        return r;
    uint64_t size = d->deleted[i].size, end = 0;
    int rc = 0;
    while (rc == 0 && end < size) {
        off_t data = lseek(r, (off_t)end, SEEK_DATA), hole;
        if (data < 0 && errno == ENXIO)
            break; /* a hole up to the end */
        if (data < 0) /* no SEEK_DATA here: all of it */
            data = (off_t)end, hole = (off_t)size;
        else if ((hole = lseek(r, data, SEEK_HOLE)) < 0 || (uint64_t)hole > size)
            hole = (off_t)size;
        uint64_t from = (uint64_t)data & ~(PAGE - 1);
        if (from < end)
            from = end;
        end = ((uint64_t)hole + PAGE - 1) & ~(PAGE - 1);
        uint64_t upto = end < size ? end : size;
        for (uint64_t off = from; off < upto; off += CTX_BLOCK_MAX_PAGES * PAGE) {
            uint64_t len = upto - off < CTX_BLOCK_MAX_PAGES * PAGE ? upto - off : CTX_BLOCK_MAX_PAGES * PAGE;
            if ((d->nblocks + 1) * sizeof(struct ctx_block) > BLOCKS_SIZE) {
                rc = fail(d, E2BIG, "too many memory blocks");
                break;
            }
            d->blocks[d->nblocks++] = (struct ctx_block){ off, 0, (uint32_t)((len + PAGE - 1) / PAGE),
                                                          CTX_BLOCK_FILE | d->deleted[i].rec };
        }
    }
    close(r);
    return rc;
}

int deleted_file_read(struct dump *d, int i, void *buf, size_t len, uint64_t off)
{
    int r = open_deleted(d, i);
    if (r < 0)
        return r;
    ssize_t got = pread(r, buf, len, (off_t)off);
    int e = errno;
    close(r);
    return got < 0 ? fail(d, e, "reading the deleted file at fd %d", d->deleted[i].fd) : 0;
}

static int detect_device(const struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    (void)d, (void)s;
    return S_ISCHR(p->st.st_mode) && is_device_family(p->path);
}

static int save_device(struct dump *d, struct fd_scan *s, const struct cr_fd_probe *p)
{
    (void)s;
    return save_path(d, p, CTX_FD_DEVICE);
}

/* ---- restart ---- */

int check_path(const struct ctx_fd *f, const struct cr_restart_opts *o, char *err, size_t len)
{
    char buf[CTX_PATH_MAX];
    if (f->flags & CTX_FD_DELETED)
        return 0;
    int moved;
    const char *path = relocate(o, (const char *)(f + 1), buf, sizeof buf, &moved);
    struct stat st;
    if ((S_ISLNK(f->id.mode) ? lstat(path, &st) : stat(path, &st)) < 0)
        return cr_say(err, len, ENOENT, "%s (open as fd %d) is gone (%s): put it back, or use "
                   "--relocate", path, f->fd, strerror(errno));
    return 0;
}

/* The flags open() takes back: access mode and file status, not O_TMPFILE & co. */
#define REOPEN_FLAGS (O_ACCMODE | O_APPEND | O_NONBLOCK | O_DSYNC | O_SYNC | O_DIRECT | O_NOATIME | O_LARGEFILE)

int cr_make_memfd(const char *path)
{
    char name[256];
    snprintf(name, sizeof name, "%s", path + 7);
    size_t n = strlen(name);
    if (n >= 10 && !strcmp(name + n - 10, " (deleted)"))
        name[n - 10] = 0;
    return memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
}

/* Another open of the file an earlier fd (placed already) has, with its own flags. */
int reopen_fd(struct child *c, const struct ctx_fd *f, int flags)
{
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", f->source_fd);
    int obj = open(self, flags | O_CLOEXEC);
    if (obj < 0)
        child_fail(c, errno, "cannot open the deleted %s of fd %d again as fd %d: %s",
                   f->kind == CTX_FD_MQUEUE ? "message queue" : "file", f->source_fd, f->fd,
                   strerror(errno));
    return obj;
}

/* A file that was deleted while open: an unnamed file again (O_TMPFILE, where it
 * was, or in the working directory), with the saved contents, opened as it was. */
static int recreate_deleted(struct child *c, const struct ctx_fd *f, uint32_t rec)
{
    struct ctx_image *img = c->img;
    if (f->source_fd >= 0) {
        int obj = reopen_fd(c, f, f->kind == CTX_FD_OPATH ? O_PATH : ((int)f->open_flags & REOPEN_FLAGS) | O_NOCTTY);
        if (f->kind != CTX_FD_OPATH && lseek(obj, (off_t)f->pos, SEEK_SET) < 0)
            child_fail(c, errno, "cannot seek the file of fd %d: %s", f->fd, strerror(errno));
        return obj;
    }
    /* memory it shares with other tasks of a step: their one file, contents and all */
    int shared = f->kind == CTX_FD_OPATH ? -1 : cr_step_shm_fd(c, f, ((int)f->open_flags & REOPEN_FLAGS) | O_NOCTTY);
    if (shared >= 0) {
        if (lseek(shared, (off_t)f->pos, SEEK_SET) < 0)
            child_fail(c, errno, "cannot seek the file of fd %d: %s", f->fd, strerror(errno));
        return shared;
    }
    char dir[CTX_PATH_MAX], buf[CTX_PATH_MAX];
    int moved;
    const char *path = relocate(c->o, (const char *)(f + 1), buf, sizeof buf, &moved);
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir)
        *slash = 0;
    int tmp = -1;
    for (uint32_t k = 0; (f->flags & CTX_FD_MEMFD) && c->pool && k < c->pool->nmems && tmp < 0; k++)
        if (c->pool->mems[k].fd >= 0 && c->pool->mems[k].dev == f->id.dev &&
            c->pool->mems[k].ino == f->id.ino) /* the tree's processes map it: the same one */
            tmp = fcntl(c->pool->mems[k].fd, F_DUPFD_CLOEXEC, 0);
    if (tmp < 0)
        tmp = (f->flags & CTX_FD_MEMFD) ? cr_make_memfd(path)
                                        : open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (tmp < 0 && !(f->flags & CTX_FD_MEMFD))
        tmp = open(".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (tmp < 0 || fchmod(tmp, f->id.mode & 07777) < 0)
        child_fail(c, errno, "cannot recreate the deleted file %s of fd %d: %s", path, f->fd,
                   strerror(errno));
    char *data = malloc(CTX_BLOCK_MAX_PAGES * 4096);
    if (!data)
        child_fail(c, ENOMEM, "out of memory");
    for (uint32_t i = 0; i < img->hdr.nblocks; i++) {
        const struct ctx_block *b = &img->blocks[i];
        if (b->vma != (CTX_BLOCK_FILE | rec))
            continue;
        size_t len = (size_t)b->npages * 4096;
        char why[400];
        int rc = ctx_read_block(img, i, data, why, sizeof why);
        if (rc < 0)
            child_fail(c, -rc, "the saved contents of %s at %llu: %s", path,
                       (unsigned long long)b->addr, why);
        size_t keep = f->id.size - b->addr < len ? (size_t)(f->id.size - b->addr) : len;
        if (pwrite(tmp, data, keep, (off_t)b->addr) != (ssize_t)keep)
            child_fail(c, errno, "cannot write the contents of %s back: %s", path, strerror(errno));
    }
    free(data);
    if (ftruncate(tmp, (off_t)f->id.size) < 0)
        child_fail(c, errno, "cannot size the file of fd %d: %s", f->fd, strerror(errno));
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", tmp);
    int obj = open(self, f->kind == CTX_FD_OPATH ? O_PATH : ((int)f->open_flags & REOPEN_FLAGS) | O_NOCTTY);
    if (obj < 0)
        child_fail(c, errno, "cannot reopen the recreated file of fd %d: %s", f->fd, strerror(errno));
    /* a memfd's seals last, through a writable fd: they may forbid writing its contents */
    const struct ctx_memfd *m = (const void *)((const char *)(f + 1) + f->path_len);
    if ((f->flags & CTX_FD_MEMFD) && m->seals && fcntl(tmp, F_ADD_SEALS, (int)m->seals) < 0)
        child_fail(c, errno, "cannot seal the memfd %s of fd %d again (seals 0x%x)", path,
                   f->fd, m->seals);
    close(tmp);
    if (f->kind != CTX_FD_OPATH && lseek(obj, (off_t)f->pos, SEEK_SET) < 0)
        child_fail(c, errno, "cannot seek the file of fd %d: %s", f->fd, strerror(errno));
    return obj;
}

static int reopen_by_path(struct child *c, const struct ctx_fd *f)
{
    char buf[CTX_PATH_MAX];
    int moved;
    const char *path = relocate(c->o, (const char *)(f + 1), buf, sizeof buf, &moved);
    int flags = (int)f->open_flags & REOPEN_FLAGS;
    if (f->kind == CTX_FD_DIR)
        flags = O_RDONLY | O_DIRECTORY;
    if (f->kind == CTX_FD_OPATH) /* a link itself, not where it leads */
        flags = O_PATH | (S_ISLNK(f->id.mode) ? O_NOFOLLOW : 0) | (S_ISDIR(f->id.mode) ? O_DIRECTORY : 0);
    int obj = open(path, flags | O_NOCTTY);
    if (obj < 0)
        child_fail(c, errno, "cannot reopen %s as fd %d: %s", path, f->fd, strerror(errno));
    if ((f->kind == CTX_FD_FILE || f->kind == CTX_FD_DIR) && lseek(obj, (off_t)f->pos, SEEK_SET) < 0)
        child_fail(c, errno, "cannot seek %s to %llu: %s", path, (unsigned long long)f->pos,
                   strerror(errno));
    return obj;
}

int recreate_deleted_dir(struct child *c, const char *saved_path, uint32_t mode, int flags)
{
    char buf[CTX_PATH_MAX];
    int moved;
    const char *path = relocate(c->o, saved_path, buf, sizeof buf, &moved);
    if (mkdir(path, 0700) < 0)
        child_fail(c, errno, "cannot make the deleted directory %s again (to %s it and remove it): "
                   "%s%s", path, flags & O_PATH ? "open" : "enter or open", strerror(errno),
                   errno == EEXIST ? ": move that away, or use --relocate" : "");
    int fd = open(path, flags | O_DIRECTORY | O_CLOEXEC);
    int e = errno;
    if (rmdir(path) < 0 || fd < 0 || fchmod(fd, mode & 07777) < 0)
        child_fail(c, fd < 0 ? e : errno, "cannot make the deleted directory %s again: %s", path,
                   strerror(fd < 0 ? e : errno));
    return fd;
}

static int make_file(struct child *c, const struct ctx_fd *f, uint32_t rec)
{
    if ((f->flags & CTX_FD_DELETED) && S_ISDIR(f->id.mode))
        return recreate_deleted_dir(c, (const char *)(f + 1), f->id.mode,
                                    f->kind == CTX_FD_OPATH ? O_PATH : O_RDONLY);
    return (f->flags & CTX_FD_DELETED) ? recreate_deleted(c, f, rec) : reopen_by_path(c, f);
}

/* A tree: a deleted file (or queue) open in two processes apart, not as one open file
 * they share, would come back as two that no longer see each other's writes. */
void pool_deleted(struct cr_pool_build *b, uint32_t member, uint32_t rec, const struct ctx_fd *f)
{
    (void)rec;
    if (!(f->flags & CTX_FD_DELETED) || S_ISDIR(f->id.mode))
        return;
    for (uint32_t j = 0; j < member; j++) {
        const struct ctx_image *img = &b->t->images[j];
        for (uint32_t k = 0; img->proc && k < img->proc->nfds; k++) {
            const struct ctx_fd *e = img->fds[k];
            if ((e->flags & CTX_FD_DELETED) && e->id.dev == f->id.dev && e->id.ino == f->id.ino &&
                (e->kind == f->kind || (e->kind != CTX_FD_MQUEUE && f->kind != CTX_FD_MQUEUE)))
                child_fail(b->rep, ENOTSUP, "the deleted %s %s is open in processes %d and %d of the "
                           "tree apart, not as one open file they share: this version would bring it "
                           "back as two; keep its name until the checkpoint",
                           f->kind == CTX_FD_MQUEUE ? "message queue" : "file", (const char *)(f + 1),
                           b->t->procs[j].pid, b->t->procs[member].pid);
        }
    }
}

/* ---- the reader and cr_info ---- */

int valid_reopen(const struct ctx_fd *f, const struct ctx_fd *const *earlier, uint32_t n)
{
    if (!(f->flags & CTX_FD_DELETED) || f->source_fd < 0 || f->source_fd >= f->fd)
        return 0;
    for (uint32_t i = 0; i < n; i++) {
        const struct ctx_fd *e = earlier[i];
        if (e->fd == f->source_fd)
            return (e->flags & CTX_FD_DELETED) && e->source_fd == -1 &&
                   (f->kind == CTX_FD_MQUEUE ? e->kind == CTX_FD_MQUEUE
                                             : (e->kind == CTX_FD_FILE || e->kind == CTX_FD_OPATH) &&
                                                   S_ISREG(e->id.mode));
    }
    return 0;
}

/* Deleted and memfd flags only; a memfd's extra is its seals, its path the kernel's. */
static int valid_file(const struct ctx_fd *f, const struct ctx_fd *const *earlier, uint32_t n)
{
    if (f->flags & ~(uint32_t)(CTX_FD_DELETED | CTX_FD_MEMFD))
        return 0;
    if (f->flags & CTX_FD_MEMFD) {
        if (!(f->flags & CTX_FD_DELETED) || f->extra_len != sizeof(struct ctx_memfd) ||
            strncmp(fd_rec_path(f), "/memfd:", 7))
            return 0;
    } else if (f->extra_len) {
        return 0;
    }
    return f->source_fd == -1 || valid_reopen(f, earlier, n);
}

static int valid_opath(const struct ctx_fd *f, const struct ctx_fd *const *earlier, uint32_t n)
{
    return f->extra_len == 0 && (f->source_fd == -1 || valid_reopen(f, earlier, n));
}

static void describe_file(const struct ctx_fd *f, FILE *out, const char *acc)
{
    if (!(f->flags & CTX_FD_MEMFD)) {
        describe_path(f, out, acc);
        return;
    }
    struct ctx_memfd m; /* after the path: not aligned */
    memcpy(&m, fd_rec_extra(f), sizeof m);
    fd_line(out, f, ctx_fd_kind_name(f->kind), acc);
    fprintf(out, "%s pos %llu  %s, contents saved, memfd seals 0x%x\n",
            (f->open_flags & 02000) ? "+append" : "", (unsigned long long)f->pos, fd_rec_path(f),
            m.seals);
}

/* A directory is found (and saved) as a file is. */
const struct cr_fd_ops cr_fd_file = {
    .kind = CTX_FD_FILE, .name = "file", .detect = detect_file, .save = save_file,
    .check = check_path, .make = make_file, .pool = pool_deleted,
    .valid = valid_file, .describe = describe_file,
};

const struct cr_fd_ops cr_fd_dir = {
    .kind = CTX_FD_DIR, .name = "dir", .check = check_path, .make = make_file,
    .valid = valid_no_extra, .describe = describe_path,
};

/* An O_PATH fd: found (and saved) as a file is. */
const struct cr_fd_ops cr_fd_opath = {
    .kind = CTX_FD_OPATH, .name = "opath", .check = check_path, .make = make_file,
    .pool = pool_deleted,
    .valid = valid_opath, .describe = describe_path,
};

const struct cr_fd_ops cr_fd_device = {
    .kind = CTX_FD_DEVICE, .name = "device", .detect = detect_device, .save = save_device,
    .check = check_path, .make = make_file,
    .valid = valid_no_extra, .describe = describe_path,
};
