/* A program written for BLCR's libcr: callbacks in both contexts, hooks, critical
 * sections, checkpoint and restart information, a self-checkpoint through
 * cr_request_checkpoint(), and cancellations.  It prints what it sees; the test
 * compares that with what BLCR documents.
 *
 * usage: api_blcr MODE CONTEXT_FILE
 *   self  - checkpoint itself to CONTEXT_FILE and report "continue" / "restarted"
 *   temp  - a signal-context callback cancels with TEMP_FAILURE_CODE(911)
 *   omit  - a thread-context callback asks to be left out
 *   perm  - a signal-context callback cancels with PERM_FAILURE (the process ends)
 *   wait  - callbacks registered, then waits to be checkpointed from outside
 *   hold  - stays in a critical section for 6 seconds, then prints "left"
 *   exit  - a second thread's signal-context callback calls exit(3)
 *   crash - a second thread's signal-context callback dereferences NULL
 */
#define _GNU_SOURCE
#include <libcr.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char events[256];
static int nevents;
static const char *mode;
static int hook_counts[CR_NUM_HOOKS];

static void event(char c) { events[__atomic_fetch_add(&nevents, 1, __ATOMIC_ACQ_REL)] = c; }

static int tc_cb(void *arg)
{
    const struct cr_checkpoint_info *ci = cr_get_checkpoint_info();
    event('T');
    if (!ci || ci->target != getpid() || ci->scope != CR_SCOPE_PROC || !ci->dest)
        event('!');
    if (!strcmp(mode, "omit"))
        return cr_checkpoint(CR_CHECKPOINT_OMIT) == -CR_EOMITTED ? 0 : (event('!'), 0);
    int rc = cr_checkpoint(CR_CHECKPOINT_READY);
    if (rc > 0) {
        const struct cr_restart_info *ri = cr_get_restart_info();
        event(ri && ri->src && !strcmp(basename((char *)ri->src), (char *)arg) &&
              ri->requester == getppid() ? 'r' : '!');
    } else {
        event(rc == 0 ? 'c' : 'x');
    }
    return 0;
}

static int sc_cb1(void *arg)
{
    (void)arg;
    event('1');
    int rc = cr_checkpoint(0);
    event(rc > 0 ? 'R' : rc == 0 ? 'C' : 'X');
    return 0;
}

static int sc_cb2(void *arg)
{
    (void)arg;
    event('2'); /* registered last, so it runs first */
    if (!strcmp(mode, "temp")) {
        int rc = cr_checkpoint(CR_CHECKPOINT_TEMP_FAILURE_CODE(911));
        event(rc == -911 ? 't' : '!');
        return 0;
    }
    if (!strcmp(mode, "perm")) {
        cr_checkpoint(CR_CHECKPOINT_PERM_FAILURE);
        return 0;
    }
    return cr_checkpoint(0) < 0 ? 0 : 0;
}

static void hook(cr_hook_event_t ev) { hook_counts[ev]++; }

static int bad_cb(void *arg)
{
    if (!strcmp(mode, "exit"))
        exit(3);
    volatile int *p = arg; /* NULL */
    return *p;
}

static void *bad_thread(void *arg)
{
    (void)arg;
    cr_init();
    cr_register_callback(bad_cb, NULL, CR_SIGNAL_CONTEXT);
    for (;;)
        pause();
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    mode = argv[1];
    char *base = basename(strdup(argv[2]));
    cr_client_id_t id = cr_init();
    if (id < 0) {
        perror("cr_init");
        return 1;
    }
    cr_register_callback(tc_cb, base, CR_THREAD_CONTEXT);
    cr_register_callback(sc_cb1, NULL, CR_SIGNAL_CONTEXT);
    cr_register_callback(sc_cb2, NULL, CR_SIGNAL_CONTEXT);
    for (int e = 0; e < CR_NUM_HOOKS; e++)
        cr_register_hook((cr_hook_event_t)e, hook);

    if (!strcmp(mode, "hold")) {
        cr_enter_cs(id);
        printf("ready %d\n", (int)getpid());
        fflush(stdout);
        sleep(6);
        cr_leave_cs(id);
        printf("left\n");
        return 0;
    }
    if (!strcmp(mode, "exit") || !strcmp(mode, "crash")) {
        pthread_t th;
        pthread_create(&th, NULL, bad_thread, NULL);
        printf("ready %d\n", (int)getpid());
        fflush(stdout);
        for (int i = 0; i < 300; i++)
            usleep(100000);
        printf("still here\n");
        return 0;
    }
    if (!strcmp(mode, "wait")) {
        printf("ready %d\n", (int)getpid());
        fflush(stdout);
        for (int i = 0; i < 100 && !nevents; i++) {
            cr_enter_cs(id); /* checkpoints wait for critical sections */
            struct timespec ts = { 0, 20 * 1000000L };
            nanosleep(&ts, NULL);
            cr_leave_cs(id);
        }
        struct timespec ts = { 0, 100 * 1000000L };
        nanosleep(&ts, NULL);
        printf("events %.*s\n", nevents, events);
        return 0;
    }

    int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0600);
    cr_checkpoint_args_t args;
    cr_checkpoint_handle_t h;
    cr_initialize_checkpoint_args_t(&args);
    args.cr_fd = fd;
    args.cr_scope = CR_SCOPE_PROC;
    if (cr_request_checkpoint(&args, &h) < 0) {
        printf("request failed: %s\n", cr_strerror(errno));
        return 1;
    }
    int rc;
    while ((rc = cr_poll_checkpoint(&h, NULL)) == 0)
        ;
    int err = errno;
    close(fd);
    if (rc > 0)
        printf("continue\n");
    else if (rc == CR_POLL_CHKPT_ERR_POST && err == CR_ERESTARTED)
        printf("restarted\n");
    else
        printf("failed: %s (%d)\n", cr_strerror(err), err);
    printf("events %.*s\n", nevents, events);
    printf("hooks cont-signal %d cont-thread %d cont-none %d rstrt-signal %d rstrt-thread %d rstrt-none %d\n",
           hook_counts[0], hook_counts[1], hook_counts[2], hook_counts[3], hook_counts[4], hook_counts[5]);
    printf("status %d\n", cr_status());
    return 0;
}
