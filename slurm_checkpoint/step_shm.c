/* Memory the local tasks of a step share: see step_shm.h. */
#define _GNU_SOURCE
#include "step_shm.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* what lives only while mapped: a restart has nothing to map again but the image */
static int volatile_shared(const char *path)
{
    size_t len = strlen(path);
    return !strncmp(path, "/SYSV", 5) || !strncmp(path, "/memfd:", 7) ||
           (len > 10 && !strcmp(path + len - 10, " (deleted)"));
}

struct mapping {           /* one mapping (a line of maps) of such memory */
    int task, proc, named;     /* named: a file of a tmpfs (/dev/shm) still there */
    unsigned maj, min;
    unsigned long long ino;
    char path[200];
};

struct maps {
    struct mapping *m;
    size_t n, cap;
};

static int scan_maps(struct maps *l, int task, int proc, pid_t pid)
{
    char path[64], line[4400];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0; /* gone: its tree's write says so */
    while (fgets(line, sizeof line, f)) {
        char perms[8], file[4096] = "";
        unsigned maj, min;
        unsigned long long ino;
        if (sscanf(line, "%*x-%*x %7s %*x %x:%x %llu %4095[^\n]", perms, &maj, &min, &ino, file) < 4 ||
            perms[3] != 's')
            continue;
        char *f0 = file + strspn(file, " ");
        struct statfs fs;
        int named = !volatile_shared(f0) && f0[0] == '/' && statfs(f0, &fs) == 0 &&
                    fs.f_type == TMPFS_MAGIC;
        if (!volatile_shared(f0) && !named)
            continue;
        if (l->n == l->cap) {
            size_t cap = l->cap ? 2 * l->cap : 64;
            struct mapping *x = realloc(l->m, cap * sizeof *x);
            if (!x) {
                fclose(f);
                return ENOMEM;
            }
            l->m = x, l->cap = cap;
        }
        l->m[l->n] = (struct mapping){ task, proc, named, maj, min, ino, "" };
        snprintf(l->m[l->n++].path, sizeof l->m->path, "%.199s", f0);
    }
    fclose(f);
    return 0;
}

static int same_object(const struct mapping *a, const struct mapping *b)
{
    return a->ino == b->ino && a->maj == b->maj && a->min == b->min;
}

static void refuse(struct coord_task *t, int *first, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void refuse(struct coord_task *t, int *first, int code, const char *fmt, ...)
{
    if (t->status)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->err, sizeof t->err, fmt, ap);
    va_end(ap);
    t->status = code;
    if (!*first)
        *first = code;
}

/* the fd (>= 0) of pid that is the object, or -1 */
static int fd_of(pid_t pid, const struct mapping *o)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    struct dirent *e;
    int found = -1;
    while (found < 0 && (e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        char link[400];
        struct stat st;
        snprintf(link, sizeof link, "%s/%s", path, e->d_name);
        if (stat(link, &st) == 0 && st.st_ino == o->ino && major(st.st_dev) == o->maj &&
            minor(st.st_dev) == o->min)
            found = atoi(e->d_name);
    }
    closedir(d);
    return found;
}

/* A System V segment attached by a process that is not one of the local tasks (each
 * mapping is one attachment): the restarted tasks would have it, that process not. */
static void outside_attachments(struct coord_task *t, const struct maps *l,
                                const struct mapping *o, const char *node, int *first, int other)
{
    struct shmid_ds ds;
    size_t lines = 0;
    if (strncmp(o->path, "/SYSV", 5) || shmctl((int)o->ino, IPC_STAT, &ds) < 0)
        return; /* (gone: the image's writer says so) */
    for (size_t k = 0; k < l->n; k++)
        lines += same_object(&l->m[k], o);
    if (ds.shm_nattch <= lines)
        return;
    for (size_t k = 0; k < l->n; k++) {
        const struct mapping *m = &l->m[k];
        if (!same_object(m, o))
            continue;
        char with[64] = "";
        if (other >= 0)
            snprintf(with, sizeof with, ", which it shares with rank %u,",
                     t[m->task == o->task ? other : o->task].rank);
        refuse(&t[m->task], first, ENOTSUP, "System V shared memory segment %llu (key 0x%x)%s is "
               "attached %lu times on %s, only %zu of them by the step's tasks there: a process "
               "outside them has it, which would not share it with the restarted tasks; detach it "
               "there before the checkpoint", o->ino, (unsigned)ds.shm_perm.__key, with,
               (unsigned long)ds.shm_nattch, node, lines);
    }
}

/* A named tmpfs file several tasks map (Open MPI's vader segments): it lives on after
 * the job only if nothing removes it, which Slurm's and the MPI's clean-up do.  Its
 * contents are saved once, in DIR/shmfile.NODEID.MAJ.MIN.INO, for the first rank to
 * put it back at restart (libcr/restart_step_shm.c). */
static void save_named(struct coord_task *t, int n, const struct maps *l, const struct mapping *o,
                       const char *dir, unsigned nodeid, int *first)
{
    char to[4400], tmp[4500], buf[65536];
    snprintf(to, sizeof to, "%s/shmfile.%u.%u.%u.%llu", dir, nodeid, o->maj, o->min, o->ino);
    snprintf(tmp, sizeof tmp, "%s.tmp", to);
    int in = open(o->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), out = -1, e = 0;
    struct stat st;
    if (in < 0 || fstat(in, &st) < 0)
        e = errno;
    else if (st.st_ino != o->ino || major(st.st_dev) != o->maj || minor(st.st_dev) != o->min)
        e = ESTALE;
    else if ((out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
        e = errno;
    for (ssize_t got; !e && (got = read(in, buf, sizeof buf)) != 0;) {
        if (got < 0 || write(out, buf, (size_t)got) != got)
            e = errno ? errno : EIO;
    }
    if (!e && (fsync(out) < 0 || close(out) < 0 || (out = -1, rename(tmp, to) < 0)))
        e = errno;
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    if (!e)
        return;
    unlink(tmp);
    for (size_t k = 0; k < l->n; k++)
        if (same_object(&l->m[k], o) && l->m[k].task < n)
            refuse(&t[l->m[k].task], first, e, "cannot save %s, shared with other tasks, into %s: %s",
                   o->path, to, e == ESTALE ? "it was replaced since it was mapped" : strerror(e));
}

/* one object (the first mapping of it: o) several tasks map: checked, then listed */
static void one_object(struct coord_task *t, int n, const struct crtree *tr, const struct maps *l,
                       const struct mapping *o, const char *node, int *first, FILE *out)
{
    int *procs = calloc((size_t)n, sizeof *procs); /* per task: how many of its processes */
    int *last = calloc((size_t)n, sizeof *last);
    if (!procs || !last) {
        free(procs), free(last);
        *first = *first ? *first : ENOMEM;
        return;
    }
    for (size_t k = 0; k < l->n; k++) {
        const struct mapping *m = &l->m[k];
        if (!same_object(m, o))
            continue;
        if (!procs[m->task] || last[m->task] != m->proc)
            procs[m->task]++, last[m->task] = m->proc;
    }
    int other = -1; /* a task it is shared with, to name */
    for (int i = 0; i < n; i++)
        if (procs[i] && i != o->task)
            other = i;
    outside_attachments(t, l, o, node, first, other);
    int memfd = !strncmp(o->path, "/memfd:", 7);
    for (int i = 0; i < n && !o->named; i++) { /* (a named file: opened by its name) */
        int with = i == o->task ? other : o->task;
        if (procs[i] > 1) {
            refuse(&t[i], first, ENOTSUP, "memory it shares with rank %u on %s (%s, mapped shared) is "
                   "mapped by %d of its own processes too: this version cannot share one memory "
                   "between tasks and within a task's process tree at once", t[with].rank, node,
                   o->path, procs[i]);
            continue;
        }
        /* an fd of it comes back on the one file, in a process that maps it (UCX's
         * POSIX memory: its peers attach it through /proc/PID/fd/N); not a memfd's
         * (it would be a file), nor in a task that only has the fd */
        for (int p = 0; p < tr[i].n; p++) {
            int fd = fd_of(tr[i].m[p].pid, o);
            if (fd >= 0 && (memfd || !procs[i])) {
                refuse(&t[i], first, ENOTSUP, "fd %d of process %d is the memory %s shares with rank "
                       "%u on %s (%s, mapped shared): this version cannot give such an fd back "
                       "with the memory shared between the restarted tasks%s", fd, (int)tr[i].m[p].pid,
                       procs[i] ? "it" : "that it does not map and", t[with].rank, node, o->path,
                       memfd ? " (a memfd's); close it once the memory is mapped" : "");
                break;
            }
        }
    }
    fprintf(out, "%u:%u %llu", o->maj, o->min, o->ino);
    for (unsigned below = 0, r;; below = r + 1) { /* its ranks, in order */
        r = ~0u;
        for (int i = 0; i < n; i++)
            if (procs[i] && t[i].rank >= below && t[i].rank < r)
                r = t[i].rank;
        if (r == ~0u)
            break;
        fprintf(out, " %u", r);
    }
    fputc('\n', out);
    free(procs), free(last);
}

int cr_step_shm_list(struct coord_task *t, int n, const struct crtree *tr, const char *dir,
                     unsigned nodeid, const char *node)
{
    struct maps l = { 0 };
    int first = 0;
    for (int i = 0; i < n && !first; i++)
        for (int p = 0; p < tr[i].n && !first; p++)
            first = scan_maps(&l, i, p, tr[i].m[p].pid);
    char path[4400], tmp[4500];
    snprintf(path, sizeof path, "%s/shm.%u", dir, nodeid);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *out = NULL;
    for (size_t a = 0; a < l.n && !first; a++) {
        int seen = 0, shared = 0;
        for (size_t b = 0; b < a && !seen; b++)
            seen = same_object(&l.m[a], &l.m[b]);
        for (size_t b = a + 1; b < l.n && !seen && !shared; b++)
            shared = same_object(&l.m[a], &l.m[b]) && l.m[b].task != l.m[a].task;
        if (seen)
            continue;
        if (!shared && l.m[a].named)
            continue; /* one task's file: mapped again where it is, as any file */
        if (!shared) { /* one task's: the engine's, but for System V attachments elsewhere */
            outside_attachments(t, &l, &l.m[a], node, &first, -1);
            continue;
        }
        if (!out && !(out = fopen(tmp, "we"))) {
            first = errno;
            for (int i = 0; i < n; i++)
                refuse(&t[i], &first, first, "cannot write %s, the list of the memory the tasks "
                       "share: %s", tmp, strerror(first));
            break;
        }
        one_object(t, n, tr, &l, &l.m[a], node, &first, out);
        if (l.m[a].named)
            save_named(t, n, &l, &l.m[a], dir, nodeid, &first);
    }
    if (out && (fclose(out) != 0 || rename(tmp, path) != 0) && !first) {
        first = errno;
        for (int i = 0; i < n; i++)
            refuse(&t[i], &first, first, "cannot write %s: %s", path, strerror(first));
    }
    free(l.m);
    return first;
}
