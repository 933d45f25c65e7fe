/* cr_agent: the node agent of step-wide checkpoints (scontrol checkpoint, see
 * scontrol-helpers/) and the small jobs around them.  Runs with the job user's
 * identity: as a task of an overlapping helper step (one per node), or on the
 * requester's host for the state kept in the step's image dir.
 *
 *   cr_agent prepare JOB STEP [--image-dir DIR]
 *   cr_agent checkpoint JOB STEP --image-dir DIR --gen N [--stop] [--max-wait SEC]
 *   cr_agent claim DIR
 *   cr_agent state DIR disable|enable|able|error|set-error ERRNO MSG|busy|idle|done N
 *   cr_agent event NAME DIR NODE GEN RANK
 * See cr_agent(8). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent_backend.h"
#include "batch_script.h"
#include "coordinated.h"
#include "step_conns.h"
#include "events.h"
#include "generation.h"
#include "manifest.h"
#include "staging.h"
#include "step_state.h"
#include "step_tasks.h"

#ifndef CR_CHECKPOINT_PROG
#define CR_CHECKPOINT_PROG "/usr/local/bin/cr_checkpoint"
#endif
#define MAX_LOCAL 512

static const char *prog = "cr_agent";

static void usage(FILE *f)
{
    fprintf(f,
"usage: cr_agent prepare JOB STEP [--image-dir DIR]\n"
"       cr_agent checkpoint JOB STEP --image-dir DIR --gen N [--stop] [--max-wait SEC]\n"
"                           [--cr-checkpoint PATH] [--coordinated SEC]\n"
"       cr_agent claim DIR\n"
"       cr_agent state DIR disable|enable|able|error|busy|idle|set-error ERRNO MSG\n"
"       cr_agent event NAME DIR NODE GEN RANK\n"
"The node agent of slurm-cr's step-wide checkpoints (scontrol checkpoint):\n"
"  prepare     on one node of the step (STEP 'batch': the batch script): prints the\n"
"              step's image dir (from its tasks'\n"
"              SLURM_CHECKPOINT_IMAGE_DIR, or --image-dir) and its state\n"
"  checkpoint  on every node of the step (an overlapping helper step): checkpoints the\n"
"              step's local tasks with cr_checkpoint into DIR/gen.N.tmp and adds this\n"
"              node's part (STEP 'batch': the batch script's process tree, on its\n"
"              node, into script.ckpt, with a copy of the script and its output);\n"
"              the last node completes gen.N; prints one line per task:\n"
"              'ok NODE RANK BYTES' or 'error NODE RANK ERRNO REASON'\n"
"              --coordinated SEC: freezes every local task first, prints 'frozen NODE'\n"
"              (or 'abort NODE'), waits up to SEC s for 'write' on stdin (from the\n"
"              requester, once every node is frozen), then writes them ('cancelled\n"
"              NODE RANK' when another task failed); 'abort' on stdin after 'write',\n"
"              or its end, calls the create off while the nodes list connections\n"
"  claim       takes the next free generation number of DIR and prints it\n"
"  state       the disable counter, the last error, the running request\n"
"  event       an RSTRT_END/RSTRT_ERROR event (cr_restart's hooks; for RSTRT_ERROR the\n"
"              errno is CR_RESTART_ERRNO and the exit status)\n"
"CR_BACKEND=kmod (plugstack.conf backend=kmod): a task without the runtime is checkpointed\n"
"through ptrace, where the crctl module is loaded (/dev/crctl); auto: without requiring it.\n"
"Exit status: 0, or the errno of the (first) failure.\n");
}

static const char *node_name(void)
{
    static char host[256];
    const char *n = getenv("SLURMD_NODENAME");
    if (n && *n)
        return n;
    gethostname(host, sizeof host - 1);
    return host;
}

static int cmd_prepare(int argc, char **argv)
{
    static struct option opts[] = { { "image-dir", 1, 0, 'd' }, { 0, 0, 0, 0 } };
    const char *dir = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "d:", opts, NULL)) != -1) {
        if (c == 'd')
            dir = optarg;
        else
            return usage(stderr), 22;
    }
    if (argc - optind != 2)
        return usage(stderr), 22;
    const char *job = argv[optind], *step = argv[optind + 1], *node = node_name();
    struct step_task t[MAX_LOCAL];
    int n = step_tasks_find(job, step, node, t, MAX_LOCAL);
    if (n < 0) {
        fprintf(stderr, "%s: cannot read /proc: %s\n", prog, strerror(-n));
        return -n;
    }
    if (n == 0) {
        fprintf(stderr, "%s: no task of step %s.%s of yours runs on %s\n", prog, job, step, node);
        return ESRCH;
    }
    if (!dir || !*dir)
        dir = t[0].image_dir;
    if (!*dir) {
        fprintf(stderr, "%s: step %s.%s has no checkpoint directory: give ImageDir=DIR, or run the "
                "step with --checkpoint-dir (or set checkpoint_dir= in plugstack.conf)\n", prog, job, step);
        return ENOENT;
    }
    if (dir[0] != '/' || strchr(dir, '\n')) {
        fprintf(stderr, "%s: the image dir must be an absolute path: %s\n", prog, dir);
        return EINVAL;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s", dir);
    for (char *s = path + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            mkdir(path, 0700);
            *s = '/';
        }
    if (mkdir(path, 0700) < 0 && errno != EEXIST) {
        int e = errno;
        fprintf(stderr, "%s: cannot create %s: %s\n", prog, path, strerror(e));
        return e;
    }
    printf("image_dir=%s\ndisabled=%d\nbusy=%lld\nlocal_tasks=%d\ninterval=%s\n", dir, cr_state_disabled(dir),
           (long long)cr_state_busy(dir), n, t[0].interval);
    return 0;
}

static int cmd_claim(int argc, char **argv)
{
    if (argc != 2)
        return usage(stderr), 22;
    const char *dir = argv[1];
    for (int tries = 0; tries < 1000; tries++) {
        unsigned n = cr_gen_highest(dir) + 1;
        char path[4200];
        snprintf(path, sizeof path, "%s/gen.%u.tmp", dir, n);
        if (mkdir(path, 0700) == 0) {
            /* marks the number as a request's: periodic writers skip it */
            char mark[4300];
            snprintf(mark, sizeof mark, "%s/.request", path);
            int fd = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
            if (fd >= 0)
                close(fd);
            printf("%u\n", n);
            return 0;
        }
        if (errno != EEXIST) {
            int e = errno;
            fprintf(stderr, "%s: cannot create %s: %s\n", prog, path, strerror(e));
            return e;
        }
    }
    fprintf(stderr, "%s: no free generation number in %s\n", prog, dir);
    return EEXIST;
}

struct job {
    struct step_task *t;
    char local[4600];  /* the node-local scratch file, "" when written in place */
    pid_t child;
    int fd, status, done;
    int by_ptrace;     /* no runtime in it: held and written through ptrace (backend=kmod) */
    char err[600];
    size_t errlen;
};

static int cmd_checkpoint(int argc, char **argv)
{
    static struct option opts[] = { { "image-dir", 1, 0, 'd' }, { "gen", 1, 0, 'g' },
                                    { "stop", 0, 0, 's' },      { "max-wait", 1, 0, 't' },
                                    { "cr-checkpoint", 1, 0, 'c' }, { "coordinated", 1, 0, 'C' },
                                    { 0, 0, 0, 0 } };
    const char *dir = NULL, *tool = CR_CHECKPOINT_PROG, *maxwait = "10";
    unsigned gen = 0;
    int stop = 0, c, verdict_wait = 0;
    while ((c = getopt_long(argc, argv, "d:g:st:c:C:", opts, NULL)) != -1) {
        switch (c) {
        case 'C': verdict_wait = atoi(optarg); break;
        case 'd': dir = optarg; break;
        case 'g': gen = (unsigned)strtoul(optarg, NULL, 10); break;
        case 's': stop = 1; break;
        case 't': maxwait = optarg; break;
        case 'c': tool = optarg; break;
        default: return usage(stderr), 22;
        }
    }
    if (argc - optind != 2 || !dir || !gen || atoi(maxwait) <= 0)
        return usage(stderr), 22;
    const char *job = argv[optind], *step = argv[optind + 1], *node = node_name();
    unsigned nodeid = (unsigned)atoi(getenv("SLURM_NODEID") ? getenv("SLURM_NODEID") : "0");
    unsigned nnodes = (unsigned)atoi(getenv("SLURM_NNODES") ? getenv("SLURM_NNODES") : "1");
    static struct step_task t[MAX_LOCAL];
    int n = step_tasks_find(job, step, node, t, MAX_LOCAL);
    if (n <= 0) {
        int e = n < 0 ? -n : ESRCH;
        printf("error %s - %d no task of step %s.%s on this node%s%s\n", node, e, job, step,
               n < 0 ? ": " : "", n < 0 ? strerror(e) : "");
        return e;
    }
    cr_events_open(dir, node);
    struct cr_gen g;
    int r = cr_gen_begin(&g, dir, gen, nodeid, nnodes);
    if (r < 0) {
        printf("error %s - %d cannot create %s: %s\n", node, -r, g.tmpdir, strerror(-r));
        return -r;
    }
    /* the batch script: its whole process tree, as script.ckpt, with a copy of the script */
    int batch = !strcmp(step, "batch");
    g.batch = batch;
    g.ntasks = t[0].ntasks;
    if (batch)
        n = 1;
    cr_event("CHKPT_BEGIN", gen, -1, 0, NULL, 0, "\"request\":\"scontrol\"");
    static struct job jobs[MAX_LOCAL];
    char saved[800] = "";
    int save_err = batch ? -cr_batch_save_script(t[0].pid, g.tmpdir, saved, sizeof saved) : 0;
    if (batch && !save_err)
        save_err = -cr_batch_save_outputs(t[0].pid, g.tmpdir, saved, sizeof saved);
    /* the site's backend (plugstack.conf backend=, in our environment as CR_BACKEND) */
    char backend_err[600] = "", module_err[600] = "";
    int backend = agent_backend_get(backend_err, sizeof backend_err), module_rc = 1;
    for (int i = 0; i < n; i++) {
        struct job *j = &jobs[i];
        int p[2];
        char file[4400], pid[32];
        memset(j, 0, sizeof *j);
        j->t = &t[i];
        j->fd = -1;
        cr_gen_task_path(&g, t[i].rank, 0, file, sizeof file);
        snprintf(pid, sizeof pid, "%d", (int)t[i].pid);
        if (t[i].scratch[0]) { /* staged: written on the node first */
            char name[64], m[600];
            snprintf(name, sizeof name, "%s", strrchr(file, '/') + 1);
            int sr = cr_stage_path(t[i].scratch, dir, gen, name, j->local, sizeof j->local, m, sizeof m);
            if (sr < 0) {
                j->status = -sr;
                snprintf(j->err, sizeof j->err, "%s", m);
                j->done = 1;
                continue;
            }
            snprintf(file, sizeof file, "%s", j->local);
        }
        if (save_err) {
            j->status = save_err;
            snprintf(j->err, sizeof j->err, "%s", saved);
            j->done = 1;
            continue;
        }
        /* a task without the runtime goes through ptrace (backend=kmod or auto): with
         * kmod, only where the module is loaded (asked once) */
        int by_ptrace = backend > AGENT_BACKEND_USER && agent_backend_needs_ptrace(t[i].pid);
        if (by_ptrace && backend == AGENT_BACKEND_KMOD && module_rc > 0)
            module_rc = agent_backend_module_ready(node, module_err, sizeof module_err);
        if (backend < 0 || (by_ptrace && backend == AGENT_BACKEND_KMOD && module_rc < 0)) {
            j->status = backend < 0 ? -backend : -module_rc;
            snprintf(j->err, sizeof j->err, "%s", backend < 0 ? backend_err : module_err);
            j->done = 1;
            continue;
        }
        j->by_ptrace = by_ptrace;
        if (verdict_wait > 0 && !batch) /* coordinated: below, all at once */
            continue;
        if (pipe2(p, O_CLOEXEC) < 0 || (j->child = fork()) < 0) {
            j->status = errno;
            snprintf(j->err, sizeof j->err, "cannot start %s: %s", tool, strerror(errno));
            j->done = 1;
            continue;
        }
        if (j->child == 0) {
            dup2(p[1], 2);
            dup2(p[1], 1);
            /* (CR_BACKEND, ours, goes on to it; the ptrace dumper writes uncompressed) */
            if (j->by_ptrace)
                unsetenv("CR_COMPRESS");
            /* --full: generations are full whatever the job's CR_INCREMENTAL says (one
             * naming the previous as its parent would break when that one is pruned) */
            char *av[] = { (char *)tool, batch ? "--tree" : "-p", "-t", (char *)maxwait, "--full",
                           "-f", file, stop ? "--stop" : "--run", pid, NULL };
            execv(tool, av);
            fprintf(stderr, "cannot run %s: %s", tool, strerror(errno));
            _exit(errno & 0xff);
        }
        close(p[1]);
        j->fd = p[0];
    }
    if (verdict_wait > 0 && !batch) {
        /* every task here frozen, the requester told, then written */
        static struct coord_task ct[MAX_LOCAL];
        static char dest[MAX_LOCAL][4400];
        int m = 0, map[MAX_LOCAL];
        for (int i = 0; i < n; i++) {
            if (jobs[i].done)
                continue;
            if (jobs[i].local[0])
                snprintf(dest[m], sizeof dest[m], "%s", jobs[i].local);
            else
                cr_gen_task_path(&g, t[i].rank, 1, dest[m], sizeof dest[m]);
            ct[m] = (struct coord_task){ .pid = t[i].pid, .rank = t[i].rank, .dest = dest[m] };
            map[m++] = i;
        }
        if (m < n) { /* a task that could not even be set up: nobody is frozen */
            struct coord_stdin cs = { node, (unsigned)verdict_wait };
            cr_coord_stdin_verdict(0, &cs);
        } else {
            struct coord_stdin cs = { node, (unsigned)verdict_wait };
            struct step_meet meet = { .dir = g.tmpdir, .nodeid = nodeid, .nnodes = nnodes,
                                      .wait_ms = (unsigned)verdict_wait * 1000, .node = node,
                                      .call_off_fd = 0 /* the requester's word, on stdin */,
                                      .gen = gen, .busy_wait_s = (unsigned)atoi(maxwait) };
            cr_coordinated(ct, m, stop, (unsigned)atoi(maxwait), cr_coord_stdin_verdict, &cs, &meet,
                           backend > AGENT_BACKEND_USER ? &agent_backend_ptrace : NULL);
        }
        for (int k = 0; k < m; k++) {
            struct job *j = &jobs[map[k]];
            j->done = 1;
            j->status = m < n ? ECANCELED : ct[k].status;
            j->errlen = (size_t)snprintf(j->err, sizeof j->err, "%s", m < n ? "called off" : ct[k].err);
            if (!j->status && !j->local[0]) {
                char final[4400];
                cr_gen_task_path(&g, t[map[k]].rank, 0, final, sizeof final);
                if (rename(dest[k], final) < 0) {
                    j->status = errno;
                    j->errlen = (size_t)snprintf(j->err, sizeof j->err, "cannot rename %s: %s", dest[k],
                                                 strerror(errno));
                }
            }
        }
    }
    /* the tools end by themselves (-t bounds the freeze); the dump gets its time */
    time_t deadline = time(NULL) + atoi(maxwait) + 600;
    for (;;) {
        struct pollfd pf[MAX_LOCAL];
        int np = 0, map[MAX_LOCAL];
        for (int i = 0; i < n; i++)
            if (jobs[i].fd >= 0) {
                pf[np] = (struct pollfd){ jobs[i].fd, POLLIN, 0 };
                map[np++] = i;
            }
        if (!np)
            break;
        long left = (long)(deadline - time(NULL));
        if (left <= 0) {
            for (int k = 0; k < np; k++) {
                kill(jobs[map[k]].child, SIGKILL);
                snprintf(jobs[map[k]].err, sizeof jobs[map[k]].err, "cr_checkpoint did not end in time");
            }
            break;
        }
        if (poll(pf, (nfds_t)np, (int)(left > 1000 ? 1000000 : left * 1000)) < 0)
            continue;
        for (int k = 0; k < np; k++) {
            struct job *j = &jobs[map[k]];
            if (!pf[k].revents)
                continue;
            char buf[512];
            ssize_t got = read(j->fd, buf, sizeof buf);
            if (got > 0) {
                size_t room = sizeof j->err - 1 - j->errlen, take = (size_t)got < room ? (size_t)got : room;
                memcpy(j->err + j->errlen, buf, take);
                j->errlen += take;
            } else {
                close(j->fd);
                j->fd = -1;
            }
        }
    }
    int first = 0;
    unsigned ranks[MAX_LOCAL];
    unsigned long long total = 0;
    for (int i = 0; i < n; i++) {
        struct job *j = &jobs[i];
        ranks[i] = t[i].rank;
        if (!j->done) {
            int st;
            while (waitpid(j->child, &st, 0) < 0 && errno == EINTR)
                ;
            j->status = WIFEXITED(st) ? WEXITSTATUS(st) : ETIMEDOUT;
        }
        if (j->local[0]) { /* copy to the shared dir, sync, read back, compare */
            char tmpf[4400], final[4400], m[600];
            cr_gen_task_path(&g, t[i].rank, 1, tmpf, sizeof tmpf);
            cr_gen_task_path(&g, t[i].rank, 0, final, sizeof final);
            int sr = j->status ? (unlink(j->local), 0) : cr_stage_file(j->local, tmpf, final, m, sizeof m);
            if (sr < 0) {
                j->status = -sr;
                j->errlen = (size_t)snprintf(j->err, sizeof j->err, "%s", m);
            }
        }
        if (!j->errlen) /* (a reason set before any tool ran: staging, backend, script) */
            j->errlen = strnlen(j->err, sizeof j->err - 1);
        j->err[j->errlen] = 0;
        for (char *s = j->err; *s; s++)
            if (*s == '\n')
                *s = ' ';
        while (j->errlen && j->err[j->errlen - 1] == ' ')
            j->err[--j->errlen] = 0;
        if (j->status == ECANCELED && verdict_wait > 0) { /* another task failed */
            printf("cancelled %s %u\n", node, t[i].rank);
            if (!first)
                first = j->status;
        } else if (j->status) {
            printf("error %s %u %d %s\n", node, t[i].rank, j->status,
                   j->err[0] ? j->err : strerror(j->status));
            if (!first)
                first = j->status;
        } else {
            char file[4400];
            struct stat st;
            cr_gen_task_path(&g, t[i].rank, 0, file, sizeof file);
            unsigned long long b = stat(file, &st) == 0 ? (unsigned long long)st.st_size : 0;
            total += b;
            printf("ok %s %u %llu\n", node, t[i].rank, b);
        }
    }
    char msg[800] = "";
    if (t[0].scratch[0])
        cr_stage_done(t[0].scratch, dir, gen);
    if (!first) {
        r = cr_gen_node_done(&g, ranks, n, node, msg, sizeof msg);
        if (r < 0) {
            first = -r;
            printf("error %s - %d %s\n", node, first, msg);
        } else if (r == 1) {
            printf("complete %u\n", gen);
        }
    }
    if (first) {
        cr_gen_node_failed(&g, ranks, n);
        for (int i = 0; i < n; i++)
            if (jobs[i].status) {
                snprintf(msg, sizeof msg, "rank %u: %s", t[i].rank, jobs[i].err);
                break;
            }
        cr_event("CHKPT_ERROR", gen, -1, first, msg[0] ? msg : strerror(first), 0, "\"request\":\"scontrol\"");
    } else {
        cr_event("CHKPT_END", gen, -1, 0, NULL, total, "\"request\":\"scontrol\"");
    }
    fflush(stdout);
    return first;
}

static int cmd_state(int argc, char **argv)
{
    if (argc < 3)
        return usage(stderr), 22;
    const char *dir = argv[1], *op = argv[2];
    int r = 0;
    if (!strcmp(op, "disable") || !strcmp(op, "enable")) {
        r = cr_state_add_disabled(dir, op[0] == 'd' ? 1 : -1);
        if (r == -EINVAL) {
            fprintf(stderr, "%s: checkpoints of this step are not disabled\n", prog);
            return EINVAL;
        }
        if (r < 0) {
            fprintf(stderr, "%s: cannot update %s/disabled: %s\n", prog, dir, strerror(-r));
            return -r;
        }
        return 0;
    }
    if (!strcmp(op, "able")) {
        time_t b = cr_state_busy(dir);
        if (b) {
            char when[64];
            strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", localtime(&b));
            printf("Began at %s\n", when);
        } else {
            printf("%s\n", cr_state_disabled(dir) > 0 ? "No" : "Yes");
        }
        return 0;
    }
    if (!strcmp(op, "error")) {
        int e;
        char msg[1200];
        cr_state_get_error(dir, &e, msg, sizeof msg);
        printf("error(%d): %s\n", e, e ? msg : "none");
        return 0;
    }
    if (!strcmp(op, "set-error") && argc == 5) {
        r = cr_state_set_error(dir, atoi(argv[3]), argv[4]);
    } else if (!strcmp(op, "busy")) {
        r = cr_state_set_busy(dir, time(NULL));
    } else if (!strcmp(op, "idle")) {
        r = cr_state_set_busy(dir, 0);
    } else {
        return usage(stderr), 22;
    }
    if (r < 0)
        fprintf(stderr, "%s: cannot update the state in %s: %s\n", prog, dir, strerror(-r));
    return -r;
}

static int cmd_event(int argc, char **argv)
{
    if (argc != 6)
        return usage(stderr), 22;
    const char *name = argv[1], *dir = argv[2], *node = argv[3];
    unsigned gen = (unsigned)strtoul(argv[4], NULL, 10);
    int rank = atoi(argv[5]), err = 0;
    char extra[200] = "";
    const char *j = getenv("SLURM_JOB_ID"), *s = getenv("SLURM_STEP_ID");
    if (j && s && strlen(j) < 20 && strlen(s) < 20 && !strpbrk(j, "\"\\") && !strpbrk(s, "\"\\"))
        snprintf(extra, sizeof extra, "\"new_step\":\"%s.%s\"", j, s);
    cr_events_open(dir, node);
    if (!strcmp(name, "RSTRT_ERROR")) {
        const char *e = getenv("CR_RESTART_ERRNO"), *m = getenv("CR_RESTART_ERROR");
        err = e ? atoi(e) : 0;
        if (err <= 0)
            err = EIO;
        cr_event(name, gen, rank, err, m ? m : strerror(err), 0, extra);
        return err & 0xff;
    }
    cr_event(name, gen, rank, 0, NULL, 0, extra);
    return 0;
}

int main(int argc, char **argv)
{
    unsetenv("LD_PRELOAD"); /* the helper step is preloaded too; the tools must not be */
    if (argc < 2) {
        usage(stderr);
        return 22;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
        printf("cr_agent (slurm-cr) %s\n", PACKAGE_VERSION);
        return 0;
    }
    if (geteuid() == 0) {
        /* everything it writes is in directories the job's user can change */
        fprintf(stderr, "%s: runs as the job's user (scontrol-cr and the helper step start it so); "
                "root's jobs are not checkpointed, and root would act on the user's directories: "
                "refusing (errno 1, EPERM)\n", prog);
        return 1;
    }
    if (!strcmp(cmd, "prepare"))
        return cmd_prepare(argc - 1, argv + 1);
    if (!strcmp(cmd, "checkpoint"))
        return cmd_checkpoint(argc - 1, argv + 1);
    if (!strcmp(cmd, "claim"))
        return cmd_claim(argc - 1, argv + 1);
    if (!strcmp(cmd, "state"))
        return cmd_state(argc - 1, argv + 1);
    if (!strcmp(cmd, "event"))
        return cmd_event(argc - 1, argv + 1);
    fprintf(stderr, "%s: unknown command '%s'\n", prog, cmd);
    usage(stderr);
    return 22;
}
