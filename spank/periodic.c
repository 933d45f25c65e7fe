/* Periodic checkpoints of a step's local tasks (srun --checkpoint=INTERVAL).
 *
 * slurmstepd forks one writer per node and step, with the job user's identity only;
 * it learns the tasks' pids from a pipe the plugin writes as the tasks are forked.
 * Every interval (tick N, counted alike on every node) it takes a copy-on-write
 * checkpoint of each local task into IMAGE_DIR/gen.N.tmp/task.RANK.ckpt and adds its
 * node's part; the node that adds the last part writes the manifest, renames the
 * generation to gen.N and points IMAGE_DIR/latest at it (generation.h); older
 * complete generations beyond `keep` are pruned.  A node that fails removes its files:
 * that generation never completes and the previous one stays; what unfinished ones left
 * when the step ends (a freeze it interrupted) is removed then.  No checkpoints while
 * `scontrol checkpoint disable` holds (step_state.h).
 * Each node's part is an event pair after BLCR's schema: CHKPT_BEGIN, then CHKPT_END
 * or CHKPT_ERROR (with the errno) carrying the handle of its BEGIN (events.h). */
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent_backend.h"
#include "batch_script.h"
#include "control.h"
#include "coordinated.h"
#include "step_conns.h"
#include "events.h"
#include "generation.h"
#include "request_client.h"
#include "step_state.h"
#include "staging.h"
#include "step_tasks.h"

#define MAX_TASKS 1024

struct task {
    unsigned rank;
    pid_t pid;
};

static volatile sig_atomic_t stop;

/* Backing off from a step whose periodic checkpoints fail at the freeze: a task that
 * cannot stop would hold every other task of the step frozen for up to MaxWait at each
 * interval.  The node whose task failed writes <image_dir>/backoff, "FAILURES NEXT" (the
 * generation to try next: 1, 3, 7, 15, then 31 are skipped), before it calls the others
 * off, so every node reads the same numbers; a completed generation removes the file. */
#define BACKOFF_MAX 5

/* An explicit checkpoint marks the step busy while it runs; a mark older than this is
 * one whose requester died, and periodic checkpoints go on. */
#define EXPLICIT_STALE_S 300

static unsigned backoff_next(const char *image_dir, unsigned *failures)
{
    char path[4200];
    unsigned k = 0, next = 0;
    snprintf(path, sizeof path, "%s/backoff", image_dir);
    FILE *f = fopen(path, "re");
    if (f) {
        if (fscanf(f, "%u %u", &k, &next) != 2 || k > BACKOFF_MAX)
            k = next = 0;
        fclose(f);
    }
    *failures = k;
    return next;
}

static void backoff_failed(const char *image_dir, unsigned gen)
{
    char path[4200], tmp[4300];
    unsigned k;
    backoff_next(image_dir, &k);
    if (k < BACKOFF_MAX)
        k++;
    snprintf(path, sizeof path, "%s/backoff", image_dir);
    snprintf(tmp, sizeof tmp, "%s.%d", path, (int)getpid());
    FILE *f = fopen(tmp, "we");
    if (!f)
        return;
    int bad = fprintf(f, "%u %u\n", k, gen + (1u << k)) < 0;
    if (fclose(f) != 0 || bad || rename(tmp, path) < 0)
        unlink(tmp);
}

struct periodic_verdict {
    struct coord_files cf;
    const char *image_dir;
    unsigned gen;
};

/* Every node's marks decide; a local task that could not be frozen backs off first. */
static int periodic_verdict(int ok, void *arg)
{
    struct periodic_verdict *v = arg;
    if (!ok)
        backoff_failed(v->image_dir, v->gen);
    return cr_coord_files_verdict(ok, &v->cf);
}

static void on_term(int sig) { (void)sig; stop = 1; }

/* The batch script's tree (pid and its descendants) into file with cr_checkpoint (at
 * `tool`); the process tree goes on.  0, or the errno with why. */
static int checkpoint_tree(const char *tool, pid_t pid, const char *file, char *why, size_t len)
{
    int p[2];
    char spid[32];
    snprintf(spid, sizeof spid, "%d", (int)pid);
    if (pipe2(p, O_CLOEXEC) < 0) {
        snprintf(why, len, "pipe: %s", strerror(errno));
        return errno;
    }
    pid_t c = fork();
    if (c == 0) {
        dup2(p[1], 1);
        dup2(p[1], 2);
        /* --full whatever the job's CR_INCREMENTAL says: a generation that named the
         * previous one as its parent would break once that one is pruned
         * (doc/incremental.md) */
        char *av[] = { (char *)tool, "-t", "60", "--run", "--full", "-f", (char *)file, spid, NULL };
        execv(tool, av);
        fprintf(stderr, "cannot run %s: %s", tool, strerror(errno));
        _exit(errno & 0xff);
    }
    close(p[1]);
    if (c < 0) {
        int e = errno;
        close(p[0]);
        snprintf(why, len, "cannot start %s: %s", tool, strerror(e));
        return e;
    }
    size_t have = 0;
    char msg[600];
    struct timespec end, now;
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += 600; /* the freeze is bounded by -t; the dump gets its time */
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        long ms = (end.tv_sec - now.tv_sec) * 1000;
        struct pollfd pf = { p[0], POLLIN, 0 };
        if (ms <= 0) {
            kill(c, SIGKILL);
            break;
        }
        int pr = poll(&pf, 1, (int)ms);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            continue;
        ssize_t r = read(p[0], msg + have, sizeof msg - 1 - have);
        if (r <= 0)
            break;
        have += (size_t)r;
        if (have == sizeof msg - 1)
            have = 0; /* keep the end */
    }
    close(p[0]);
    msg[have] = 0;
    msg[strcspn(msg, "\n")] = 0;
    int st = 0;
    while (waitpid(c, &st, 0) < 0 && errno == EINTR)
        ;
    int rc = WIFEXITED(st) ? WEXITSTATUS(st) : ETIMEDOUT;
    if (rc)
        snprintf(why, len, "batch script (pid %d): %s", (int)pid, msg[0] ? msg : strerror(rc));
    return rc;
}

/* This node's part of generation gen: 1 when written and this node completed the
 * generation (it was the last), 0 when written, -1 on failure (the generation will
 * not complete). */
static int one_generation(const char *image_dir, unsigned gen, const struct task *t, int n,
                          unsigned nodeid, unsigned nnodes, unsigned step_ntasks, const char *node, FILE *log,
                          const char *tree_tool, const char *scratch_tpl)
{
    char scratch[4096] = "", local[4600];
    if (scratch_tpl && cr_stage_expand(scratch_tpl, node, scratch, sizeof scratch) < 0)
        scratch[0] = 0;
    struct cr_gen g;
    char file[4600], final[4600];
    unsigned ranks[MAX_TASKS];
    int r = cr_gen_begin(&g, image_dir, gen, nodeid, nnodes);
    g.ntasks = tree_tool ? 1 : step_ntasks;
    if (r < 0) {
        fprintf(log, "checkpoint generation %u: cannot create %s: %s\n", gen, g.tmpdir, strerror(-r));
        return -1;
    }
    int ok = 1, err = 0;
    char why[800] = "";
    unsigned long long total = 0;
    cr_event("CHKPT_BEGIN", gen, -1, 0, NULL, 0, NULL);
    if (tree_tool) { /* the batch script: one tree, one file */
        g.batch = 1;
        ranks[0] = t[0].rank;
        pid_t target = step_task_target(t[0].pid);
        struct stat st;
        cr_gen_task_path(&g, t[0].rank, 0, final, sizeof final);
        err = cr_batch_save_script(target, g.tmpdir, why, sizeof why);
        if (!err)
            err = cr_batch_save_outputs(target, g.tmpdir, why, sizeof why);
        const char *dest = final;
        if (!err && scratch[0]) {
            err = cr_stage_path(scratch, image_dir, gen, "script.ckpt", local, sizeof local, why, sizeof why);
            dest = local;
        }
        if (!err) {
            err = checkpoint_tree(tree_tool, target, dest, why, sizeof why);
            if (!err && dest == local) {
                cr_gen_task_path(&g, t[0].rank, 1, file, sizeof file);
                err = -cr_stage_file(local, file, final, why, sizeof why);
            } else if (dest == local) {
                unlink(local);
            }
        } else {
            err = -err;
        }
        if (err) {
            if (kill(t[0].pid, 0) == 0)
                fprintf(log, "checkpoint generation %u: %s\n", gen, why);
            ok = 0;
        } else if (stat(final, &st) == 0) {
            total = (unsigned long long)st.st_size;
        }
        n = ok ? 1 : n;
    }
    /* the tasks: coordinated with the other nodes' writers through the generation's
     * directory, every task of the step frozen before any is written */
    static struct coord_task ct[MAX_TASKS];
    static char dest[MAX_TASKS][4600];
    int nset = 0;
    char backend_err[300] = "", module_err[600] = "";
    int backend = agent_backend_get(backend_err, sizeof backend_err), module_rc = 1;
    for (int i = 0; i < n && ok && !tree_tool; i++) {
        ranks[i] = t[i].rank;
        cr_gen_task_path(&g, t[i].rank, 1, dest[i], sizeof dest[i]);
        if (scratch[0]) {
            char name[64];
            snprintf(name, sizeof name, "task.%u.ckpt", t[i].rank);
            int sr = cr_stage_path(scratch, image_dir, gen, name, local, sizeof local, why, sizeof why);
            if (sr < 0) {
                err = -sr;
                fprintf(log, "checkpoint generation %u: task %u: %s\n", gen, t[i].rank, why);
                ok = 0;
                break;
            }
            snprintf(dest[i], sizeof dest[i], "%s", local);
        }
        /* cr_restart's child, after a restart */
        ct[i] = (struct coord_task){ .pid = step_task_target(t[i].pid), .rank = t[i].rank, .dest = dest[i] };
        nset = i + 1;
        /* a task without the runtime (plugstack backend=kmod or auto, or the job's
         * CR_BACKEND): written through ptrace, with kmod only where the module is
         * loaded; none is frozen when one cannot be */
        if (backend > AGENT_BACKEND_USER && agent_backend_needs_ptrace(ct[i].pid)) {
            if (backend == AGENT_BACKEND_KMOD && module_rc > 0)
                module_rc = agent_backend_module_ready(node, module_err, sizeof module_err);
            if (backend == AGENT_BACKEND_KMOD && module_rc < 0) {
                err = -module_rc;
                snprintf(why, sizeof why, "task %u: %s", t[i].rank, module_err);
                fprintf(log, "checkpoint generation %u: %s\n", gen, why);
                ok = 0;
            }
        } else if (backend < 0) {
            err = -backend;
            snprintf(why, sizeof why, "%s", backend_err);
            fprintf(log, "checkpoint generation %u: %s\n", gen, why);
            ok = 0;
        }
    }
    if (!tree_tool) {
        /* a task gets 10 s to stop (scontrol's MaxWait default); the others wait a
         * little longer for every node's mark, then let go */
        struct periodic_verdict v = { { g.tmpdir, nodeid, nnodes, 12000 }, image_dir, gen };
        if (!ok)
            cr_coord_files_verdict(0, &v.cf);
        else
        {
            struct step_meet meet = { .dir = g.tmpdir, .nodeid = nodeid, .nnodes = nnodes, .wait_ms = 12000,
                                      .node = node, .call_off_fd = -1 /* no requester */, .gen = gen,
                                      .busy_wait_s = 0 /* an explicit request goes first */ };
            cr_coordinated(ct, n, 0, 10, periodic_verdict, &v, &meet,
                           backend > AGENT_BACKEND_USER ? &agent_backend_ptrace : NULL);
        }
    }
    for (int i = 0; i < n && !tree_tool; i++) {
        ranks[i] = t[i].rank;
        if (!ok) {
            if (i < nset)
                unlink(dest[i]);
            continue;
        }
        if (ct[i].status) {
            if (!err || err == ECANCELED) {
                err = ct[i].status;
                snprintf(why, sizeof why, "task %u (pid %d): %s", t[i].rank, (int)t[i].pid, ct[i].err);
            }
            /* a task that just ended is no error, nor one called off by another */
            if (ct[i].status != ECANCELED && kill(t[i].pid, 0) == 0)
                fprintf(log, "checkpoint generation %u: task %u (pid %d): %s\n", gen, t[i].rank,
                        (int)t[i].pid, ct[i].err);
            continue;
        }
        total += ct[i].bytes;
        cr_gen_task_path(&g, t[i].rank, 1, file, sizeof file);
        cr_gen_task_path(&g, t[i].rank, 0, final, sizeof final);
        if (scratch[0]) { /* staged: copied, synced, verified, renamed */
            int sr = cr_stage_file(dest[i], file, final, why, sizeof why);
            if (sr < 0) {
                err = -sr;
                fprintf(log, "checkpoint generation %u: task %u: %s\n", gen, t[i].rank, why);
            }
        } else if (rename(file, final) < 0) {
            err = errno;
            snprintf(why, sizeof why, "cannot rename %.600s: %s", file, strerror(errno));
        }
    }
    if (err)
        ok = 0;
    if (scratch[0])
        cr_stage_done(scratch, image_dir, gen);
    int completed = 0;
    if (ok) {
        r = cr_gen_node_done(&g, ranks, n, node, why, sizeof why);
        completed = r == 1;
        if (r < 0) {
            err = -r;
            fprintf(log, "checkpoint generation %u: %s\n", gen, why);
            ok = 0;
        }
    }
    if (!ok) {
        for (int i = 0; i < n; i++)
            ranks[i] = t[i].rank;
        cr_gen_node_failed(&g, ranks, n); /* a partial generation is never used */
        cr_event("CHKPT_ERROR", gen, -1, err ? err : EIO, why[0] ? why : "cannot complete the generation",
                 0, NULL);
        return -1;
    }
    cr_event("CHKPT_END", gen, -1, 0, NULL, total, NULL);
    return completed;
}

void cr_periodic_writer(int regfd, const char *image_dir, long interval, unsigned keep,
                        const char *nodename, unsigned nodeid, unsigned nnodes, unsigned step_ntasks,
                        const char *tree_tool,
                        const char *scratch)
{
    /* the node's name as Slurm knows it: slurmstepd has no item for it, the first task
     * sends it ("node NAME") from its environment; until then, the host name */
    char node[256], opened[256] = "";
    snprintf(node, sizeof node, "%s", nodename ? nodename : "");
    struct task tasks[MAX_TASKS];
    int ntasks = 0;
    char buf[4096];
    size_t have = 0;
    unsigned gen = 0, backoff_said = 0;
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
                break; /* slurmstepd closed it: the step is over */
            }
            have += (size_t)r;
            buf[have] = 0;
            char *line = buf, *nl;
            while ((nl = strchr(line, '\n'))) {
                unsigned rank;
                int pid;
                if (sscanf(line, "node %255s", node) == 1)
                    ;
                else if (sscanf(line, "%u %d", &rank, &pid) == 2 && ntasks < MAX_TASKS)
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
        /* every node counts the same ticks, so that gen.N holds the same moment of
         * every node; a number an explicit checkpoint (scontrol) took is skipped */
        char done[4300], req[4400];
        do {
            gen++;
            snprintf(done, sizeof done, "%s/gen.%u", image_dir, gen);
            snprintf(req, sizeof req, "%s/gen.%u.tmp/.request", image_dir, gen);
        } while (access(done, F_OK) == 0 || access(req, F_OK) == 0);
        if (cr_state_disabled(image_dir) > 0)
            continue;
        unsigned failures, next_try = backoff_next(image_dir, &failures);
        if (next_try > gen) {
            if (nodeid == 0 && next_try != backoff_said) {
                fprintf(log, "checkpoint generations %u to %u skipped after %u failed attempts to freeze "
                        "every task\n", gen, next_try - 1, failures);
                backoff_said = next_try;
            }
            continue;
        }
        /* nothing here any more, or an explicit checkpoint (scontrol) under way, whose
         * freeze this one would hold up: the other nodes need not wait for us */
        time_t busy = cr_state_busy(image_dir);
        if (!ntasks || (busy > 0 && time(NULL) - busy < EXPLICIT_STALE_S)) {
            struct cr_gen g;
            if (cr_gen_begin(&g, image_dir, gen, nodeid, nnodes) == 0) {
                struct coord_files cf = { g.tmpdir, nodeid, nnodes, 0 };
                cr_coord_files_verdict(0, &cf);
            }
            continue;
        }
        if (strcmp(opened, node)) {
            cr_events_open(image_dir, node);
            snprintf(opened, sizeof opened, "%s", node);
        }
        /* pruned by the node that completed it: every node is done with older ones */
        if (one_generation(image_dir, gen, tasks, ntasks, nodeid, nnodes, step_ntasks, node, log, tree_tool, scratch) == 1) {
            cr_gen_prune(image_dir, keep, gen);
            snprintf(path, sizeof path, "%s/backoff", image_dir);
            unlink(path);
        }
    }
    /* the step is over: what its unfinished generations left (the marks of a freeze
     * its end interrupted, on any node) serves nobody, and no later one of this step
     * will complete to prune it */
    cr_gen_prune(image_dir, keep, gen + 1);
    _exit(0);
}
