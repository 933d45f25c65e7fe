/* cr_info DIR: the checkpoint generations of a Slurm step's image directory (gen.N,
 * made complete by the last node with its manifest; gen.N.tmp still being written or
 * abandoned; `latest` naming the newest complete one), or the context files of a
 * directory written by cr_checkpoint --dir. */
#define _GNU_SOURCE
#include "generations.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct gen {
    unsigned n;
    int complete;
    char name[256];
};

static int by_number(const void *a, const void *b)
{
    const struct gen *x = a, *y = b;
    return x->n < y->n ? -1 : x->n > y->n ? 1 : x->complete - y->complete;
}

/* Bytes of the files directly in dir. */
static unsigned long long dir_bytes(int dfd)
{
    unsigned long long sum = 0;
    DIR *d = fdopendir(dup(dfd));
    struct dirent *e;
    struct stat st;
    while (d && (e = readdir(d)))
        if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
            sum += (unsigned long long)st.st_size;
    if (d)
        closedir(d);
    return sum;
}

/* How many objects of memory tasks of the step shared on a node (shm.NODEID: one line
 * each, slurm_checkpoint/step_shm.h), made again between them at restart. */
static unsigned shared_objects(int dfd)
{
    unsigned n = 0;
    int dup_fd = dup(dfd);
    DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
    struct dirent *e;
    if (d) /* (the dup shares its position, at the end after dir_bytes) */
        rewinddir(d);
    while (d && (e = readdir(d))) {
        unsigned node;
        int end = 0;
        if (sscanf(e->d_name, "shm.%u%n", &node, &end) != 1 || e->d_name[end])
            continue;
        int fd = openat(dfd, e->d_name, O_RDONLY | O_CLOEXEC);
        FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
        char line[4096];
        while (f && fgets(line, sizeof line, f))
            n++;
        if (f)
            fclose(f);
        else if (fd >= 0)
            close(fd);
    }
    if (d)
        closedir(d);
    else if (dup_fd >= 0)
        close(dup_fd);
    return n;
}

/* "tasks K" and "nodes M" of a complete generation's manifest. */
static void manifest_counts(int dfd, unsigned *tasks, unsigned *nodes)
{
    *tasks = *nodes = 0;
    int fd = openat(dfd, "manifest", O_RDONLY | O_CLOEXEC);
    FILE *f = fd >= 0 ? fdopen(fd, "re") : NULL;
    char line[256];
    while (f && fgets(line, sizeof line, f)) {
        sscanf(line, "tasks %u", tasks);
        sscanf(line, "nodes %u", nodes);
    }
    if (f)
        fclose(f);
    else if (fd >= 0)
        close(fd);
}

int list_generations(const char *path, void (*size_str)(char *, size_t, unsigned long long))
{
    DIR *d = opendir(path);
    if (!d) {
        int e = errno;
        fprintf(stderr, "cr_info: %s: %s\n", path, strerror(e));
        return e;
    }
    struct gen *gens = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        unsigned num;
        int used = 0;
        if (sscanf(e->d_name, "gen.%u%n", &num, &used) != 1 || strncmp(e->d_name, "gen.", 4))
            continue;
        int complete = e->d_name[used] == 0;
        if (!complete && strcmp(e->d_name + used, ".tmp"))
            continue;
        if (n == cap) {
            struct gen *g = realloc(gens, (cap = cap ? cap * 2 : 16) * sizeof *g);
            if (!g)
                break;
            gens = g;
        }
        gens[n] = (struct gen){ num, complete, "" };
        snprintf(gens[n].name, sizeof gens[n].name, "%s", e->d_name);
        n++;
    }
    char latest[64] = "";
    ssize_t ln = readlinkat(dirfd(d), "latest", latest, sizeof latest - 1);
    latest[ln > 0 ? ln : 0] = 0;
    if (n)
        qsort(gens, n, sizeof *gens, by_number);
    printf("%s: %zu generation%s%s%s\n", path, n, n == 1 ? "" : "s", latest[0] ? ", latest " : "",
           latest);
    for (size_t i = 0; i < n; i++) {
        int gfd = openat(dirfd(d), gens[i].name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct stat st;
        char when[64] = "?", sz[32] = "?";
        unsigned tasks = 0, nodes = 0, shared = 0;
        if (gfd >= 0 && fstat(gfd, &st) == 0) {
            strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime(&st.st_mtime));
            size_str(sz, sizeof sz, dir_bytes(gfd));
            if (gens[i].complete)
                manifest_counts(gfd, &tasks, &nodes), shared = shared_objects(gfd);
        }
        char shm[64] = "";
        if (shared)
            snprintf(shm, sizeof shm, ", %u shared memor%s between tasks", shared, shared == 1 ? "y" : "ies");
        if (gens[i].complete)
            printf("  %-12s complete    %s  %10s  %u task%s on %u node%s%s%s\n", gens[i].name, when,
                   sz, tasks, tasks == 1 ? "" : "s", nodes, nodes == 1 ? "" : "s", shm,
                   !strcmp(latest, gens[i].name) ? "  (latest)" : "");
        else
            printf("  %-12s incomplete  %s  %10s  (being written, or abandoned by a failed "
                   "checkpoint)\n", gens[i].name, when, sz);
        if (gfd >= 0)
            close(gfd);
    }
    free(gens);
    closedir(d);
    return 0;
}
