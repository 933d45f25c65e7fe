/* Periodic checkpoints of a step's local tasks (srun --checkpoint=INTERVAL).
 *
 * slurmstepd forks one writer per node and step, with the job user's identity only;
 * it learns the tasks' pids from a pipe the plugin writes as the tasks are forked.
 * Every interval it takes a copy-on-write checkpoint of each local task into
 *   IMAGE_DIR/gen.N.tmp/task.RANK.ckpt
 * and, once all are written, renames the generation to gen.N, writes its manifest and
 * points IMAGE_DIR/latest at it; older complete generations beyond `keep` are pruned.
 * A failed generation is removed and the previous one stays.
 * Each generation is an event pair after BLCR's schema: CHKPT_BEGIN, then CHKPT_END
 * or CHKPT_ERROR (with the errno) carrying the handle of its BEGIN, as JSON lines in
 * IMAGE_DIR/events.jsonl and in syslog. */
#define _GNU_SOURCE
#include "periodic.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "request_client.h"

#define MAX_TASKS 1024

struct task {
    unsigned rank;
    pid_t pid;
};

static volatile sig_atomic_t stop;
static FILE *events;
static const char *node = "";

/* One JSON line; the strings we put in are ours (no quotes or backslashes in them
 * but the message, which is cleaned). */
static void event(const char *name, unsigned gen, const char *image_dir, int err, const char *msg,
                  unsigned long long bytes)
{
    char line[1400], clean[700] = "";
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    size_t k = 0;
    for (const char *m = msg ? msg : ""; *m && k < sizeof clean - 1; m++)
        clean[k++] = (*m == '"' || *m == '\\' || (unsigned char)*m < 32) ? ' ' : *m;
    clean[k] = 0;
    const char *base = strrchr(image_dir, '/');
    int n = snprintf(line, sizeof line,
                     "{\"event\":\"%s\",\"handle\":\"%s:%s:%u\",\"time\":%lld.%03ld,\"step\":\"%s\","
                     "\"node\":\"%s\",\"generation\":%u", name, base ? base + 1 : image_dir, node, gen,
                     (long long)ts.tv_sec, ts.tv_nsec / 1000000, base ? base + 1 : image_dir, node, gen);
    if (bytes)
        n += snprintf(line + n, sizeof line - (size_t)n, ",\"bytes\":%llu", bytes);
    if (err)
        n += snprintf(line + n, sizeof line - (size_t)n, ",\"errno\":%d,\"message\":\"%s\"", err, clean);
    snprintf(line + n, sizeof line - (size_t)n, "}");
    if (events) {
        fprintf(events, "%s\n", line);
        fflush(events);
    }
    syslog(LOG_INFO, "%s", line);
}
static void on_term(int sig) { (void)sig; stop = 1; }

static int rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[4096];
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    if (d)
        closedir(d);
    return rmdir(dir);
}

/* Keeps the `keep` newest complete generations. */
static void prune(const char *image_dir, unsigned newest, unsigned keep)
{
    char path[4096];
    for (unsigned g = 1; g + keep <= newest; g++) {
        snprintf(path, sizeof path, "%s/gen.%u", image_dir, g);
        rm_tree(path);
    }
}

static int one_generation(const char *image_dir, unsigned gen, const struct task *t, int n,
                          FILE *log)
{
    char tmpdir[4096], dir[4096], file[4600], final[4600];
    snprintf(tmpdir, sizeof tmpdir, "%s/gen.%u.tmp", image_dir, gen);
    snprintf(dir, sizeof dir, "%s/gen.%u", image_dir, gen);
    if (mkdir(tmpdir, 0700) < 0 && errno != EEXIST) {
        fprintf(log, "checkpoint generation %u: cannot create %s: %s\n", gen, tmpdir, strerror(errno));
        return -1;
    }
    int ok = 1, err = 0;
    char why[800] = "";
    unsigned long long total = 0;
    event("CHKPT_BEGIN", gen, image_dir, 0, NULL, 0);
    for (int i = 0; i < n && ok; i++) {
        snprintf(file, sizeof file, "%s/task.%u.ckpt.tmp", tmpdir, t[i].rank);
        snprintf(final, sizeof final, "%s/task.%u.ckpt", tmpdir, t[i].rank);
        int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        struct crq q;
        if (fd < 0 || crq_start(&q, t[i].pid, fd, 60000, CR_CTL_CONTINUE) < 0 || crq_wait(&q, -1) != 1 || q.err) {
            err = fd < 0 ? errno : q.err ? q.err : EIO;
            snprintf(why, sizeof why, "task %u (pid %d): %s", t[i].rank, (int)t[i].pid,
                     fd < 0 ? strerror(errno) : q.msg);
            if (fd < 0 || kill(t[i].pid, 0) == 0) /* a task that just ended is no error */
                fprintf(log, "checkpoint generation %u: %s\n", gen, why);
            ok = 0;
        } else {
            crq_commit(&q, 0);
            total += q.bytes;
        }
        if (fd >= 0) {
            crq_close(&q);
            close(fd);
        }
        if (ok && rename(file, final) < 0)
            ok = 0;
    }
    if (ok) {
        snprintf(file, sizeof file, "%s/manifest", tmpdir);
        FILE *m = fopen(file, "we");
        if (m) {
            fprintf(m, "generation %u\ntasks %d\n", gen, n);
            for (int i = 0; i < n; i++)
                fprintf(m, "task %u task.%u.ckpt\n", t[i].rank, t[i].rank);
            ok = fflush(m) == 0 && fsync(fileno(m)) == 0;
            fclose(m);
        } else {
            ok = 0;
        }
    }
    if (!ok || rename(tmpdir, dir) < 0) {
        rm_tree(tmpdir); /* a partial generation is never used; the previous one stays */
        event("CHKPT_ERROR", gen, image_dir, err ? err : errno ? errno : EIO,
              why[0] ? why : "cannot complete the generation", 0);
        return -1;
    }
    event("CHKPT_END", gen, image_dir, 0, NULL, total);
    /* the pointer to the newest complete generation, replaced atomically */
    snprintf(file, sizeof file, "%s/latest.tmp", image_dir);
    snprintf(final, sizeof final, "%s/latest", image_dir);
    snprintf(tmpdir, sizeof tmpdir, "gen.%u", gen);
    unlink(file);
    if (symlink(tmpdir, file) == 0)
        rename(file, final);
    return 0;
}

void cr_periodic_writer(int regfd, const char *image_dir, long interval, unsigned keep,
                        const char *nodename)
{
    node = nodename ? nodename : "";
    struct task tasks[MAX_TASKS];
    int ntasks = 0;
    char buf[4096];
    size_t have = 0;
    unsigned gen = 0;
    signal(SIGTERM, on_term);
    /* the checkpoint dir and the step's image dir below it, as the user's own */
    char path[4096];
    snprintf(path, sizeof path, "%s", image_dir);
    for (char *s = path + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            mkdir(path, 0700);
            *s = '/';
        }
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        _exit(1);
    char logpath[4200];
    snprintf(logpath, sizeof logpath, "%s/errors.log", image_dir);
    FILE *log = fopen(logpath, "ae");
    if (!log)
        log = stderr;
    setvbuf(log, NULL, _IOLBF, 0);
    snprintf(logpath, sizeof logpath, "%s/events.jsonl", image_dir);
    events = fopen(logpath, "ae");
    openlog("slurm-cr", LOG_PID, LOG_USER);
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    next.tv_sec += interval;
    while (!stop) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long ms = (next.tv_sec - now.tv_sec) * 1000 + (next.tv_nsec - now.tv_nsec) / 1000000;
        struct pollfd p = { regfd, POLLIN, 0 };
        int pr = ms > 0 ? poll(&p, 1, (int)ms) : 0;
        if (pr > 0) {
            ssize_t r = read(regfd, buf + have, sizeof buf - 1 - have);
            if (r <= 0) {
                regfd = -1; /* slurmstepd closed it: no more tasks come */
                continue;
            }
            have += (size_t)r;
            buf[have] = 0;
            char *line = buf, *nl;
            while ((nl = strchr(line, '\n'))) {
                unsigned rank;
                int pid;
                if (sscanf(line, "%u %d", &rank, &pid) == 2 && ntasks < MAX_TASKS)
                    tasks[ntasks++] = (struct task){ rank, (pid_t)pid };
                line = nl + 1;
            }
            have = strlen(line);
            memmove(buf, line, have + 1);
            continue;
        }
        if (pr < 0)
            continue; /* EINTR: stop is looked at */
        next.tv_sec += interval;
        /* the tasks that are still there */
        int live = 0;
        for (int i = 0; i < ntasks; i++)
            if (kill(tasks[i].pid, 0) == 0)
                tasks[live++] = tasks[i];
        ntasks = live;
        if (ntasks && one_generation(image_dir, gen + 1, tasks, ntasks, log) == 0) {
            gen++;
            prune(image_dir, gen, keep);
        }
    }
    _exit(0);
}
