/* See progress.h. */
#define _GNU_SOURCE
#include "progress.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct progress {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int stop, shown;
    const char *what;
    uint64_t total;
    int64_t (*done)(void *arg);
    void *arg;
    unsigned after_ms;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void human(char *out, size_t len, double bytes)
{
    const char *unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    int u = 0;
    while (bytes >= 1024 && u < 4)
        bytes /= 1024, u++;
    snprintf(out, len, u ? "%.1f %s" : "%.0f %s", bytes, unit[u]);
}

static void draw(struct progress *p, double elapsed, int64_t done)
{
    char d[32], t[32], r[32], line[200];
    human(d, sizeof d, (double)done);
    human(r, sizeof r, elapsed > 0 ? done / elapsed : 0);
    if (p->total && (uint64_t)done <= p->total) {
        human(t, sizeof t, (double)p->total);
        double rate = elapsed > 0 ? done / elapsed : 0;
        double left = rate > 0 ? (p->total - (uint64_t)done) / rate : 0;
        snprintf(line, sizeof line, "%s: %s of about %s, %s/s, %.0f s left", p->what, d, t, r, left);
    } else {
        snprintf(line, sizeof line, "%s: %s, %s/s, %.0f s", p->what, d, r, elapsed);
    }
    fprintf(stderr, "\r%-78.78s", line);
    fflush(stderr);
    p->shown = 1;
}

static void *run(void *arg)
{
    struct progress *p = arg;
    double t0 = now_s();
    pthread_mutex_lock(&p->lock);
    while (!p->stop) {
        double elapsed = now_s() - t0;
        int64_t done = elapsed * 1000 >= p->after_ms ? p->done(p->arg) : -1;
        if (done >= 0)
            draw(p, elapsed, done);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 200 * 1000 * 1000;
        if (until.tv_nsec >= 1000000000)
            until.tv_sec++, until.tv_nsec -= 1000000000;
        pthread_cond_timedwait(&p->cond, &p->lock, &until);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

struct progress *progress_start(const char *what, uint64_t total,
                                int64_t (*done)(void *arg), void *arg, int quiet)
{
    if (quiet || !isatty(2))
        return NULL;
    struct progress *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->cond, NULL);
    p->what = what;
    p->total = total;
    p->done = done;
    p->arg = arg;
    const char *after = getenv("CR_PROGRESS_AFTER_MS");
    p->after_ms = after && *after ? (unsigned)strtoul(after, NULL, 10) : 1000;
    if (pthread_create(&p->thread, NULL, run, p) != 0) {
        free(p);
        return NULL;
    }
    return p;
}

void progress_stop(struct progress *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    if (p->shown) { /* the line goes away: what follows starts clean */
        fprintf(stderr, "\r%-78s\r", "");
        fflush(stderr);
    }
    free(p);
}
