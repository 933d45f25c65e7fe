/* A generation written by every node of a step: see generation.h. */
#define _GNU_SOURCE
#include "generation.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cr_gen_remove(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[4400];
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            if (unlink(path) < 0 && (errno == EISDIR || errno == EPERM))
                rmdir(path);
        }
    if (d)
        closedir(d);
    return rmdir(dir);
}

int cr_gen_begin(struct cr_gen *g, const char *image_dir, unsigned gen, unsigned nodeid,
                 unsigned nnodes)
{
    memset(g, 0, sizeof *g);
    snprintf(g->image_dir, sizeof g->image_dir, "%s", image_dir);
    snprintf(g->tmpdir, sizeof g->tmpdir, "%s/gen.%u.tmp", image_dir, gen);
    g->gen = gen;
    g->nodeid = nodeid;
    g->nnodes = nnodes ? nnodes : 1;
    if (mkdir(g->tmpdir, 0700) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

void cr_gen_task_path(const struct cr_gen *g, unsigned rank, int tmp, char *out, size_t len)
{
    if (g->batch)
        snprintf(out, len, "%s/script.ckpt%s", g->tmpdir, tmp ? ".tmp" : "");
    else
        snprintf(out, len, "%s/task.%u.ckpt%s", g->tmpdir, rank, tmp ? ".tmp" : "");
}

void cr_gen_node_failed(struct cr_gen *g, const unsigned *ranks, int n)
{
    char path[4400];
    for (int i = 0; i < n; i++) {
        cr_gen_task_path(g, ranks[i], 0, path, sizeof path);
        unlink(path);
        cr_gen_task_path(g, ranks[i], 1, path, sizeof path);
        unlink(path);
    }
    if (g->batch) {
        snprintf(path, sizeof path, "%s/slurm_script", g->tmpdir);
        unlink(path);
        snprintf(path, sizeof path, "%s/slurm_script.path", g->tmpdir);
        unlink(path);
        for (int k = 0; k < 2; k++) {
            snprintf(path, sizeof path, "%s/output.%d", g->tmpdir, k);
            unlink(path);
            snprintf(path, sizeof path, "%s/output.%d.path", g->tmpdir, k);
            unlink(path);
        }
    }
    rmdir(g->tmpdir); /* only when nobody else wrote anything */
}

/* Writes path atomically (path.tmp, fsync, rename); 0 or -errno. */
static int write_file(const char *path, const char *data, size_t len)
{
    char tmp[4500];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -errno;
    ssize_t w = write(fd, data, len);
    int err = w < 0 ? errno : (size_t)w != len ? EIO : 0;
    if (!err && fsync(fd) < 0)
        err = errno;
    close(fd);
    if (!err && rename(tmp, path) < 0)
        err = errno;
    if (err)
        unlink(tmp);
    return -err;
}

struct line {
    unsigned rank;
    char text[300];
};

static int by_rank(const void *a, const void *b)
{
    unsigned x = ((const struct line *)a)->rank, y = ((const struct line *)b)->rank;
    return x < y ? -1 : x > y;
}

/* Every part there: the manifest, then the generation becomes gen.N. */
static int complete(struct cr_gen *g, char *msg, size_t msglen)
{
    size_t cap = 64, nl = 0;
    unsigned want = 0;
    struct line *lines = malloc(cap * sizeof *lines);
    char path[4400];
    int err = 0;
    for (unsigned k = 0; k < g->nnodes && lines && !err; k++) {
        snprintf(path, sizeof path, "%s/part.%u", g->tmpdir, k);
        FILE *f = fopen(path, "re");
        if (!f) {
            err = errno;
            snprintf(msg, msglen, "%s: %s", path, strerror(errno));
            break;
        }
        char buf[300];
        while (fgets(buf, sizeof buf, f)) {
            unsigned r;
            if (sscanf(buf, "ntasks %u", &r) == 1 && r > want)
                want = r;
            if (sscanf(buf, "task %u ", &r) != 1)
                continue;
            if (nl == cap) {
                struct line *more = realloc(lines, (cap *= 2) * sizeof *lines);
                if (!more) {
                    err = ENOMEM;
                    break;
                }
                lines = more;
            }
            lines[nl].rank = r;
            snprintf(lines[nl].text, sizeof lines[nl].text, "%s", buf);
            nl++;
        }
        fclose(f);
    }
    if (!lines)
        err = ENOMEM;
    if (!err) {
        qsort(lines, nl, sizeof *lines, by_rank);
        /* every task of the step, once: one that ended meanwhile is in no part */
        size_t i = 0;
        while (want && i < nl && lines[i].rank == i)
            i++;
        if (want && (i != want || nl != want)) {
            err = ESRCH;
            if (i < want)
                snprintf(msg, msglen, "the step has %u tasks but rank %zu was not saved (did it end "
                         "during the checkpoint?)", want, i);
            else
                snprintf(msg, msglen, "the step has %u tasks, not the %zu saved", want, nl);
        }
    }
    if (!err) {
        size_t len = 0, size = 128 + nl * sizeof lines[0].text;
        char *text = malloc(size);
        if (!text) {
            err = ENOMEM;
        } else {
            len += (size_t)snprintf(text, size, "generation %u\ntasks %zu\nnodes %u\n", g->gen, nl, g->nnodes);
            for (size_t i = 0; i < nl; i++)
                len += (size_t)snprintf(text + len, size - len, "%s", lines[i].text);
            snprintf(path, sizeof path, "%s/manifest", g->tmpdir);
            err = -write_file(path, text, len);
            if (err)
                snprintf(msg, msglen, "cannot write %s: %s", path, strerror(err));
            free(text);
        }
    }
    free(lines);
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/gen.%u", g->image_dir, g->gen);
    snprintf(path, sizeof path, "%s/.finish", g->tmpdir);
    rmdir(path);
    snprintf(path, sizeof path, "%s/.request", g->tmpdir);
    unlink(path);
    if (!err && rename(g->tmpdir, dir) < 0) {
        err = errno;
        snprintf(msg, msglen, "cannot rename %s to %s: %s", g->tmpdir, dir, strerror(errno));
    }
    if (err)
        return -err;
    /* the pointer to the newest complete generation, replaced atomically */
    char link[4300], target[64];
    snprintf(link, sizeof link, "%s/latest.tmp.%u", g->image_dir, g->nodeid);
    snprintf(path, sizeof path, "%s/latest", g->image_dir);
    snprintf(target, sizeof target, "gen.%u", g->gen);
    unlink(link);
    if (symlink(target, link) == 0 && rename(link, path) < 0)
        unlink(link);
    return 1;
}

int cr_gen_node_done(struct cr_gen *g, const unsigned *ranks, int n, const char *node,
                     char *msg, size_t msglen)
{
    char path[4400], *text = malloc((size_t)n * 300 + 1);
    size_t len = 0;
    if (!text)
        return -ENOMEM;
    text[0] = 0;
    if (g->ntasks)
        len += (size_t)snprintf(text, 300, "ntasks %u\n", g->ntasks);
    for (int i = 0; i < n; i++) {
        char file[4400];
        cr_gen_task_path(g, ranks[i], 0, file, sizeof file);
        len += (size_t)snprintf(text + len, 300, "task %u %s %s\n", ranks[i], strrchr(file, '/') + 1, node);
    }
    snprintf(path, sizeof path, "%s/part.%u", g->tmpdir, g->nodeid);
    int r = write_file(path, text, len);
    free(text);
    if (r < 0) {
        snprintf(msg, msglen, "cannot write %s: %s", path, strerror(-r));
        return r;
    }
    /* every part there?  Each node looks after writing its own, so the last to
     * write sees them all; .finish makes one of those who do the finisher. */
    for (unsigned k = 0; k < g->nnodes; k++) {
        snprintf(path, sizeof path, "%s/part.%u", g->tmpdir, k);
        if (access(path, F_OK) < 0)
            return 0;
    }
    snprintf(path, sizeof path, "%s/.finish", g->tmpdir);
    if (mkdir(path, 0700) < 0)
        return 0;
    return complete(g, msg, msglen);
}

static int gen_number(const char *name, unsigned *n, int *tmp)
{
    char *end;
    if (strncmp(name, "gen.", 4) || name[4] < '0' || name[4] > '9')
        return 0;
    unsigned long v = strtoul(name + 4, &end, 10);
    if (*end && strcmp(end, ".tmp"))
        return 0;
    *n = (unsigned)v;
    *tmp = *end != 0;
    return 1;
}

unsigned cr_gen_highest(const char *image_dir)
{
    DIR *d = opendir(image_dir);
    struct dirent *e;
    unsigned best = 0, n;
    int tmp;
    while (d && (e = readdir(d)))
        if (gen_number(e->d_name, &n, &tmp) && n > best)
            best = n;
    if (d)
        closedir(d);
    return best;
}

struct done {
    unsigned n;
    struct timespec t;
};

static int newest_first(const void *a, const void *b)
{
    const struct done *x = a, *y = b;
    if (x->t.tv_sec != y->t.tv_sec)
        return x->t.tv_sec > y->t.tv_sec ? -1 : 1;
    if (x->t.tv_nsec != y->t.tv_nsec)
        return x->t.tv_nsec > y->t.tv_nsec ? -1 : 1;
    return x->n > y->n ? -1 : x->n < y->n;
}

void cr_gen_prune(const char *image_dir, unsigned keep, unsigned below)
{
    DIR *d = opendir(image_dir);
    struct dirent *e;
    struct done list[256];
    unsigned count = 0, n;
    int tmp;
    char path[4400];
    while (d && (e = readdir(d))) {
        if (!gen_number(e->d_name, &n, &tmp))
            continue;
        snprintf(path, sizeof path, "%s/%s", image_dir, e->d_name);
        if (tmp) {
            if (n < below)
                cr_gen_remove(path);
            continue;
        }
        struct stat st;
        snprintf(path, sizeof path, "%s/%s/manifest", image_dir, e->d_name);
        if (stat(path, &st) == 0 && count < 256)
            list[count++] = (struct done){ n, st.st_mtim };
    }
    if (d)
        closedir(d);
    qsort(list, count, sizeof list[0], newest_first);
    for (unsigned i = keep; i < count; i++) {
        snprintf(path, sizeof path, "%s/gen.%u", image_dir, list[i].n);
        cr_gen_remove(path);
    }
}
