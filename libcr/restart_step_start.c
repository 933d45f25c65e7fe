/* No task of a Slurm step restarted with --step-dir runs before every task of it is
 * restored.  A rank that reads another's memory by its pid (UCX's CMA transport) as
 * soon as it runs would find a peer still in its restorer, its memory not mapped yet
 * (EFAULT).  So each task's threads wait at the restorer's gate (restore_plan.h) until
 * every task has said in DIR that its process is restored (restored.RANK); then
 * cr_restart opens its gate.  The marks are removed by the last task past them
 * (started.RANK). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "restart_child.h"

#define STEP_WAIT_MS 120000 /* the restorer's gate waits 2 minutes at most */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int cr_step_gated(const struct cr_restart_opts *o)
{
    struct child c = { .o = o };
    unsigned rank, tasks;
    return o->step_dir && !o->stop_first && cr_step_rank(&c, &rank, &tasks);
}

int cr_step_start(const struct cr_restart_opts *o, pid_t pid, uint64_t gate, char *err, size_t len)
{
    /* (gate 0: a task restored without waiting, a tree's or a ptrace image's, says so
     * for the others and goes on) */
    struct child c = { .o = o };
    unsigned rank = 0, tasks = 0;
    if (!cr_step_rank(&c, &rank, &tasks))
        return 0;
    char path[4400];
    snprintf(path, sizeof path, "%s/restored.%u", o->step_dir, rank);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 || close(fd) < 0)
        return cr_say(err, len, errno, "cannot write %s (the step's meeting place, --step-dir): %s",
                      path, strerror(errno));
    /* (within the 2 minutes the restorer's gate waits) */
    uint64_t until = now_ms() + STEP_WAIT_MS - 10000;
    for (unsigned r = 0; gate && r < tasks; r++) {
        snprintf(path, sizeof path, "%s/restored.%u", o->step_dir, r);
        while (access(path, F_OK) < 0) {
            if (errno != ENOENT)
                return cr_say(err, len, errno, "cannot look for %s: %s", path, strerror(errno));
            if (now_ms() >= until)
                return cr_say(err, len, ETIMEDOUT, "rank %u of the step was not restored within %d s "
                              "(no %s): restart the whole step, every task with the same "
                              "--step-dir", r, (STEP_WAIT_MS - 10000) / 1000, path);
            nanosleep(&(struct timespec){ 0, 20 * 1000000L }, NULL);
        }
    }
    int rc = gate ? cr_restart_open_gate(pid, gate, err, len) : 0;
    if (rc < 0)
        return rc;
    snprintf(path, sizeof path, "%s/started.%u", o->step_dir, rank);
    if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)) >= 0)
        close(fd);
    for (unsigned r = 0; r < tasks; r++) {
        snprintf(path, sizeof path, "%s/started.%u", o->step_dir, r);
        if (access(path, F_OK) < 0)
            return 0;
    }
    for (unsigned r = 0; r < tasks; r++) {
        snprintf(path, sizeof path, "%s/restored.%u", o->step_dir, r);
        unlink(path);
        snprintf(path, sizeof path, "%s/started.%u", o->step_dir, r);
        unlink(path);
    }
    return 0;
}
