/* BLCR's orderings, in a program written for its libcr: thread-context callbacks run
 * the most recently registered first; each hook fires once per thread that runs it
 * (never a second time for the library's own thread); a child made by fork() does not
 * run the thread-context callbacks its parent registered.
 *   api_order order FILE   prints "events BA" and the hook counts
 *   api_order fork FILE    prints the child's events (none) and the parent's (A)
 *   api_order tree FILE    a checkpoint of its own tree (CR_SCOPE_TREE) with a child
 *                          waiting on a pipe: "continue" or, restarted, "restarted";
 *                          then the child answers: "child ok" */
#include <libcr.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char events[16];
static int nevents, hooks[CR_NUM_HOOKS];

static int cb(void *arg)
{
    events[nevents++] = *(const char *)arg;
    cr_checkpoint(CR_CHECKPOINT_READY);
    return 0;
}

static void hook(cr_hook_event_t ev) { __atomic_add_fetch(&hooks[ev], 1, __ATOMIC_RELAXED); }

static int self_checkpoint_scope(const char *file, int scope)
{
    cr_checkpoint_args_t args;
    cr_checkpoint_handle_t h;
    cr_initialize_checkpoint_args_t(&args);
    args.cr_scope = scope;
    args.cr_fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (args.cr_fd < 0 || cr_request_checkpoint(&args, &h) < 0)
        return -1;
    int rc;
    while ((rc = cr_poll_checkpoint(&h, NULL)) == 0)
        ;
    int err = errno;
    close(args.cr_fd);
    if (rc == CR_POLL_CHKPT_ERR_POST && err == CR_ERESTARTED)
        return 1;
    if (rc <= 0)
        fprintf(stderr, "checkpoint: %s\n", cr_strerror(err));
    return rc > 0 ? 0 : -1;
}

static int self_checkpoint(const char *file)
{
    return self_checkpoint_scope(file, CR_SCOPE_PROC);
}

int main(int argc, char **argv)
{
    if (argc < 3 || cr_init() < 0)
        return 2;
    cr_register_callback(cb, "A", CR_THREAD_CONTEXT);
    if (!strcmp(argv[1], "order")) {
        cr_register_callback(cb, "B", CR_THREAD_CONTEXT);
        for (int e = 0; e < CR_NUM_HOOKS; e++)
            cr_register_hook((cr_hook_event_t)e, hook);
        if (self_checkpoint(argv[2]) < 0)
            return 1;
        printf("events %.*s\nhooks cont-signal %d cont-thread %d cont-none %d\n", nevents,
               events, hooks[CR_HOOK_CONT_SIGNAL_CONTEXT], hooks[CR_HOOK_CONT_THREAD_CONTEXT],
               hooks[CR_HOOK_CONT_NO_CALLBACKS]);
        return 0;
    }
    if (!strcmp(argv[1], "tree")) {
        int go[2];
        if (pipe(go) < 0)
            return 1;
        fflush(stdout);
        pid_t c = fork();
        if (c == 0) {
            char b;
            close(go[1]);
            if (read(go[0], &b, 1) != 1)
                _exit(1);
            printf("child ok\n");
            fflush(stdout);
            _exit(0);
        }
        close(go[0]);
        int rc = self_checkpoint_scope(argv[2], CR_SCOPE_TREE);
        if (rc < 0)
            return 1;
        printf("%s\n", rc ? "restarted" : "continue");
        fflush(stdout);
        int status;
        if (write(go[1], "g", 1) != 1 || waitpid(c, &status, 0) != c || status != 0)
            return 1;
        return 0;
    }
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        cr_init();
        if (self_checkpoint(argv[2]) < 0)
            _exit(1);
        printf("child events %.*s.\n", nevents, events);
        fflush(stdout);
        _exit(0);
    }
    int status;
    if (child < 0 || waitpid(child, &status, 0) != child || status != 0)
        return 1;
    if (self_checkpoint(argv[2]) < 0)
        return 1;
    printf("parent events %.*s.\n", nevents, events);
    return 0;
}
