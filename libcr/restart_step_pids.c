/* The pids of the other tasks of a Slurm step on the node, as their programs know them
 * and as the kernel numbers them after a restart with new pids.  A rank that reads
 * another rank's memory by its pid (UCX's CMA transport: process_vm_readv of the pid
 * the peer said at its start, getpid() then and the pid it keeps knowing) would get
 * ESRCH once both came back with new numbers; with these pairs in its runtime's table
 * (pid_map.c) the call reaches the peer's new process.
 *
 * At restart (cr_restart --step-dir=DIR), through files in DIR:
 *   pids.RANK       the node's name, then "KNOWN REAL" for each process of the task
 *                   (written by its first process as soon as it has its pid)
 *   pidsdone.RANK   the task read what it needed (the last one removes the files)
 * Every task writes its file before it waits for any other, and waits (bounded) only
 * when it has a table to write them in and got new pids. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pid_map.h"
#include "restart_child.h"

#define STEP_WAIT_MS 120000 /* the other tasks of the step start within this */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void cr_step_pids(struct child *c, const struct ctx_pid_pair *mine, uint32_t n, int want,
                  struct cr_pid_map *map)
{
    unsigned rank = 0, tasks = 0;
    if (!c->o->step_dir || (c->pool && c->member != 0) || !cr_step_rank(c, &rank, &tasks))
        return; /* (a tree's other processes: their first one speaks for them) */
    char host[256] = "", path[4400], line[160];
    gethostname(host, sizeof host - 1);
    size_t cap = 300 + (size_t)n * 32, at = 0;
    char *text = malloc(cap);
    if (!text)
        child_fail(c, ENOMEM, "out of memory");
    at += (size_t)snprintf(text, cap, "%s\n", host);
    for (uint32_t k = 0; k < n; k++)
        at += (size_t)snprintf(text + at, cap - at, "%d %d\n", (int)mine[k].known, (int)mine[k].real);
    snprintf(path, sizeof path, "%s/pids.%u", c->o->step_dir, rank);
    child_publish(c, path, text, strlen(text));
    free(text);
    uint64_t until = now_ms() + STEP_WAIT_MS;
    for (unsigned r = 0; want && r < tasks; r++) {
        if (r == rank)
            continue;
        snprintf(path, sizeof path, "%s/pids.%u", c->o->step_dir, r);
        FILE *f;
        while (!(f = fopen(path, "re"))) {
            if (errno != ENOENT)
                child_fail(c, errno, "cannot open %s: %s", path, strerror(errno));
            if (now_ms() >= until)
                child_fail(c, ETIMEDOUT, "rank %u of the step did not come back within %d s (no %s): "
                           "restart the whole step, every task with the same --step-dir", r,
                           STEP_WAIT_MS / 1000, path);
            nanosleep(&(struct timespec){ 0, 20 * 1000000L }, NULL);
        }
        char theirs[256] = "";
        if (!fgets(theirs, sizeof theirs, f))
            child_fail(c, EINVAL, "%s is not what a restart of the step wrote", path);
        theirs[strcspn(theirs, "\n")] = 0;
        int known, real;
        /* only the node's own: another node's numbers name other processes here */
        while (!strcmp(theirs, host) && fgets(line, sizeof line, f)) {
            if (sscanf(line, "%d %d", &known, &real) != 2 || known <= 0 || real <= 0)
                child_fail(c, EINVAL, "%s is not what a restart of the step wrote", path);
            int there = known == real;
            for (uint32_t i = 0; !there && i < map->n; i++)
                for (uint32_t k = 0; !there && k < n; k++)
                    there = map->e[i].known == known && mine[k].known == known;
            if (there)
                continue;
            if (map->n == CR_PID_MAP_MAX)
                child_fail(c, E2BIG, "the program's table of the pids it knows by their first "
                           "values holds %u of them at most, with the other tasks of the node's",
                           CR_PID_MAP_MAX);
            /* first: the process goes before an entry of the same number for the task's
             * group (slurmstepd makes the first task's pid the group of every task of
             * the node), which a call naming a process would otherwise reach */
            memmove(&map->e[1], &map->e[0], map->n * sizeof map->e[0]);
            map->e[0] = (struct cr_pid_pair){ known, real };
            map->n++;
        }
        fclose(f);
    }
    /* past it: pidsdone.RANK; the last to say so (every mark seen) takes the files away */
    snprintf(path, sizeof path, "%s/pidsdone.%u", c->o->step_dir, rank);
    child_publish(c, path, "", 0);
    for (unsigned r = 0; r < tasks; r++) {
        snprintf(path, sizeof path, "%s/pidsdone.%u", c->o->step_dir, r);
        if (access(path, F_OK) < 0)
            return;
    }
    for (unsigned r = 0; r < tasks; r++) {
        snprintf(path, sizeof path, "%s/pids.%u", c->o->step_dir, r);
        unlink(path);
        snprintf(path, sizeof path, "%s/pidsdone.%u", c->o->step_dir, r);
        unlink(path);
    }
}

