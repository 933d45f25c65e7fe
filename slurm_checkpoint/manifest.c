/* Reading the latest complete generation of a step's checkpoint: see manifest.h. */
#define _GNU_SOURCE
#include "manifest.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_RANKS 65536

void cr_manifest_free(struct cr_manifest *m)
{
    free(m->file);
    free(m->node);
    m->file = NULL;
    m->node = NULL;
}

static int simple_name(const char *s)
{
    return *s && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..");
}

static int parse(struct cr_manifest *m, const char *path, char *msg, size_t len)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        int e = errno;
        snprintf(msg, len, "cannot read %s: %s", path, strerror(e));
        return -e;
    }
    char line[512], file[256], node[256];
    unsigned v, r, seen = 0;
    int k;
    int have_tasks = 0, err = 0;
    while (!err && fgets(line, sizeof line, f)) {
        if (sscanf(line, "generation %u", &v) == 1)
            m->gen = v;
        else if (sscanf(line, "nodes %u", &v) == 1)
            m->nodes = v;
        else if (sscanf(line, "tasks %u", &v) == 1 && !have_tasks) {
            if (v == 0 || v > MAX_RANKS) {
                snprintf(msg, len, "%s: a checkpoint of %u tasks cannot be restarted", path, v);
                err = EINVAL;
                break;
            }
            m->tasks = v;
            have_tasks = 1;
            m->file = calloc(v, sizeof *m->file);
            m->node = calloc(v, sizeof *m->node);
            if (!m->file || !m->node)
                err = ENOMEM;
        } else if ((k = sscanf(line, "task %u %255s %255s", &r, file, node)) >= 2) {
            if (!have_tasks || r >= m->tasks || !simple_name(file) || strlen(file) >= 64) {
                snprintf(msg, len, "%s: bad line '%.*s'", path, (int)strcspn(line, "\n"), line);
                err = EINVAL;
                break;
            }
            if (!m->file[r][0])
                seen++;
            snprintf(m->file[r], 64, "%s", file);
            snprintf(m->node[r], 64, "%.63s", k == 3 ? node : "");
        }
    }
    fclose(f);
    if (!err && !have_tasks) {
        snprintf(msg, len, "%s has no task count", path);
        err = EINVAL;
    }
    if (!err && seen != m->tasks) {
        for (r = 0; r < m->tasks && m->file[r][0]; r++)
            ;
        snprintf(msg, len, "%s lists %u of its %u tasks (none for rank %u)", path, seen, m->tasks, r);
        err = EINVAL;
    }
    if (err)
        cr_manifest_free(m);
    return -err;
}

int cr_manifest_latest(const char *image_dir, struct cr_manifest *m, char *msg, size_t len)
{
    struct stat st;
    char path[4400], target[256];
    memset(m, 0, sizeof *m);
    int se = stat(image_dir, &st) < 0 ? errno : S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
    if (se) {
        snprintf(msg, len, "%s: %s", image_dir, strerror(se));
        return -se;
    }
    /* `latest`, if it names a complete generation of this directory */
    snprintf(path, sizeof path, "%s/latest", image_dir);
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n > 0) {
        target[n] = 0;
        snprintf(path, sizeof path, "%s/%s/manifest", image_dir, target);
        if (simple_name(target) && strncmp(target, "gen.", 4) == 0 && access(path, R_OK) == 0) {
            snprintf(m->dir, sizeof m->dir, "%s/%s", image_dir, target);
            return parse(m, path, msg, len);
        }
    }
    /* else the complete generation with the newest manifest */
    DIR *d = opendir(image_dir);
    if (!d) {
        int e = errno;
        snprintf(msg, len, "%s: %s", image_dir, strerror(e));
        return -e;
    }
    struct dirent *e;
    struct timespec best = { 0, 0 };
    char name[256] = "";
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "gen.", 4) || strstr(e->d_name, ".tmp"))
            continue;
        snprintf(path, sizeof path, "%s/%s/manifest", image_dir, e->d_name);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
            (st.st_mtim.tv_sec > best.tv_sec ||
             (st.st_mtim.tv_sec == best.tv_sec && st.st_mtim.tv_nsec > best.tv_nsec))) {
            best = st.st_mtim;
            snprintf(name, sizeof name, "%s", e->d_name);
        }
    }
    closedir(d);
    if (!name[0]) {
        snprintf(msg, len, "%s holds no complete checkpoint generation (gen.N with its manifest)",
                 image_dir);
        return -ENOENT;
    }
    snprintf(m->dir, sizeof m->dir, "%s/%s", image_dir, name);
    snprintf(path, sizeof path, "%s/manifest", m->dir);
    return parse(m, path, msg, len);
}
