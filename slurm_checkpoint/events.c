/* Events after BLCR's fault-tolerance schema: see events.h. */
#define _GNU_SOURCE
#include "events.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static FILE *events;
static char step[256], node[256];

void cr_events_open(const char *image_dir, const char *nodename)
{
    char path[4200];
    const char *base = strrchr(image_dir, '/');
    snprintf(step, sizeof step, "%s", base ? base + 1 : image_dir);
    snprintf(node, sizeof node, "%s", nodename ? nodename : "");
    if (events)
        fclose(events);
    snprintf(path, sizeof path, "%s/events.jsonl", image_dir);
    /* O_NOFOLLOW: never write through a link someone put in the place of the log */
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    events = fd >= 0 ? fdopen(fd, "a") : NULL;
    openlog("slurm-cr", LOG_PID, LOG_USER);
}

/* Strings put in JSON: what could break the line or the quoting becomes a blank. */
static void clean(char *out, size_t len, const char *in)
{
    size_t k = 0;
    for (const char *m = in ? in : ""; *m && k < len - 1; m++)
        out[k++] = (*m == '"' || *m == '\\' || (unsigned char)*m < 32) ? ' ' : *m;
    out[k] = 0;
}

/* The site's hook (plugstack.conf event_hook=, passed on as SLURM_CR_EVENT_HOOK): run
 * as the job user, detached (a grandchild: nobody waits for it), with the event as a
 * JSON line on stdin and its name in CR_EVENT. */
static void run_hook(const char *name, const char *line)
{
    const char *hook = getenv("SLURM_CR_EVENT_HOOK");
    if (!hook || hook[0] != '/')
        return;
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return;
    pid_t c = fork();
    if (c == 0) {
        if (fork() != 0)
            _exit(0);
        dup2(p[0], 0);
        setenv("CR_EVENT", name, 1);
        execl(hook, hook, (char *)NULL);
        _exit(127);
    }
    close(p[0]);
    if (c > 0) {
        /* the line fits in the pipe: the hook reads it when it likes */
        (void)!write(p[1], line, strlen(line));
        (void)!write(p[1], "\n", 1);
        while (waitpid(c, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    close(p[1]);
}

void cr_event(const char *name, unsigned gen, int rank, int err, const char *msg,
              unsigned long long bytes, const char *extra)
{
    char line[1600], m[700], st[256], nd[256], r[32] = "";
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    clean(m, sizeof m, msg);
    clean(st, sizeof st, step);
    clean(nd, sizeof nd, node);
    if (rank >= 0)
        snprintf(r, sizeof r, ":%d", rank);
    int n = snprintf(line, sizeof line,
                     "{\"event\":\"%s\",\"handle\":\"%s:%s:%u%s\",\"time\":%lld.%03ld,\"step\":\"%s\","
                     "\"node\":\"%s\",\"generation\":%u", name, st, nd, gen, r,
                     (long long)ts.tv_sec, ts.tv_nsec / 1000000, st, nd, gen);
    if (rank >= 0)
        n += snprintf(line + n, sizeof line - (size_t)n, ",\"rank\":%d", rank);
    if (bytes)
        n += snprintf(line + n, sizeof line - (size_t)n, ",\"bytes\":%llu", bytes);
    if (err)
        n += snprintf(line + n, sizeof line - (size_t)n, ",\"errno\":%d,\"message\":\"%s\"", err, m);
    if (extra && *extra)
        n += snprintf(line + n, sizeof line - (size_t)n, ",%s", extra);
    snprintf(line + n, sizeof line - (size_t)n, "}");
    if (events) {
        fprintf(events, "%s\n", line);
        fflush(events);
    }
    syslog(err ? LOG_ERR : LOG_INFO, "%s", line);
    run_hook(name, line);
}
