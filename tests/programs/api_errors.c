/* Every error path of the libcr API (and the one self-checkpoint a thread may ask for
 * before cr_init()). */
#define _GNU_SOURCE
#include <libcr.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures;

#define EXPECT(cond, what)                                                   \
    do {                                                                     \
        if (!(cond)) {                                                       \
            printf("FAILED: %s (errno %d: %s)\n", what, errno, cr_strerror(errno)); \
            failures++;                                                      \
        }                                                                    \
    } while (0)

static int cb(void *arg) { (void)arg; return 0; }
static void hook(cr_hook_event_t ev) { (void)ev; }

int main(void)
{
    cr_checkpoint_args_t args;
    cr_checkpoint_handle_t h = 0;
    /* before cr_init(): CR_ENOINIT */
    errno = 0;
    EXPECT(cr_register_callback(cb, NULL, CR_THREAD_CONTEXT) == -1 && errno == CR_ENOINIT, "register before cr_init");
    errno = 0;
    EXPECT(cr_enter_cs(0) == -1 && errno == CR_ENOINIT, "enter_cs before cr_init");
    errno = 0;
    EXPECT(cr_status() == -1 && errno == CR_ENOINIT, "status before cr_init");
    errno = 0;
    EXPECT(cr_register_hook(CR_HOOK_CONT_NO_CALLBACKS, hook) == CR_HOOK_FN_ERROR && errno == CR_ENOINIT, "hook before cr_init");
    /* ... but any thread may request a checkpoint (BLCR's rule), and one of itself is
     * written before the call returns */
    cr_initialize_checkpoint_args_t(&args);
    args.cr_fd = open(".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    EXPECT(args.cr_fd >= 0, "a temporary file for the request before cr_init");
    struct stat st;
    EXPECT(cr_request_checkpoint(&args, &h) == 0, "request before cr_init");
    EXPECT(fstat(args.cr_fd, &st) == 0 && st.st_size > 4096, "the self-checkpoint was not written when the request returned");
    EXPECT(cr_poll_checkpoint(&h, NULL) > 0, "poll of a self-checkpoint requested before cr_init");
    close(args.cr_fd);

    cr_client_id_t id = cr_init();
    EXPECT(id >= 0, "cr_init");
    /* below zero: ERANGE, as BLCR says */
    errno = 0;
    EXPECT(cr_dec_persist() == -1 && errno == ERANGE, "cr_dec_persist below zero");
    /* outside a callback: CR_ENOTCB */
    EXPECT(cr_checkpoint(0) == -CR_ENOTCB, "cr_checkpoint outside a callback");
    errno = 0;
    EXPECT(cr_replace_self(cb, NULL, CR_THREAD_CONTEXT) == -1 && errno == CR_ENOTCB, "replace_self outside a callback");
    errno = 0;
    EXPECT(cr_forward_checkpoint(CR_SCOPE_PROC, getpid()) == -1 && errno == CR_ENOTCB, "forward outside a callback");
    EXPECT(cr_get_checkpoint_info() == NULL && cr_get_restart_info() == NULL, "info outside a callback");
    /* bad arguments: EINVAL, EBADF, CR_EVERSION, ESRCH, EAGAIN */
    errno = 0;
    EXPECT(cr_register_callback(cb, NULL, 0) == -1 && errno == EINVAL, "register without a context");
    errno = 0;
    EXPECT(cr_register_callback(cb, NULL, CR_THREAD_CONTEXT | CR_SIGNAL_CONTEXT) == -1 && errno == EINVAL, "register with both contexts");
    int tc = cr_register_callback(cb, NULL, CR_THREAD_CONTEXT);
    int sc = cr_register_callback(cb, NULL, CR_SIGNAL_CONTEXT);
    EXPECT(tc >= 0 && sc >= 0 && tc != sc, "register in each context");
    EXPECT(cr_replace_callback(tc, NULL, NULL, CR_THREAD_CONTEXT) == 0, "replace a callback (disable)");
    errno = 0;
    EXPECT(cr_replace_callback(tc, cb, NULL, CR_SIGNAL_CONTEXT) == -1 && errno == EINVAL, "replace changing the context");
    errno = 0;
    EXPECT(cr_replace_callback(12345, cb, NULL, CR_THREAD_CONTEXT) == -1 && errno == EINVAL, "replace an unknown id");
    errno = 0;
    EXPECT(cr_leave_cs(id) == -1 && errno == EINVAL, "leave_cs without enter");
    errno = 0;
    EXPECT(cr_enter_cs(id + 1000) == -1 && errno == EINVAL, "enter_cs with another thread's id");
    EXPECT(cr_enter_cs(id) == 0 && cr_enter_cs(id) == 0 && cr_leave_cs(id) == 0 && cr_leave_cs(id) == 0, "nested critical sections");
    EXPECT(cr_tryenter_cs(id) == 0 && cr_leave_cs(id) == 0, "tryenter_cs when idle");
    errno = 0;
    EXPECT(cr_enter_cs(CR_ID_CALLBACK) == -1 && errno == EINVAL, "CR_ID_CALLBACK outside a callback");
    EXPECT(cr_status() == CR_STATE_IDLE, "status idle");
    EXPECT(cr_register_hook(CR_HOOK_CONT_NO_CALLBACKS, hook) == NULL, "first hook returns NULL");
    EXPECT(cr_register_hook(CR_HOOK_CONT_NO_CALLBACKS, NULL) == hook, "hook returns the previous one");
    errno = 0;
    EXPECT(cr_register_hook(CR_NUM_HOOKS, hook) == CR_HOOK_FN_ERROR && errno == EINVAL, "hook for an invalid event");
    errno = 0;
    EXPECT(cri_init_checkpoint_args_t(99, &args) == -1 && errno == CR_EVERSION, "args of an unknown version");
    cr_initialize_checkpoint_args_t(&args);
    args.cr_fd = 987;
    errno = 0;
    EXPECT(cr_request_checkpoint(&args, &h) == -1 && errno == EBADF, "request to a closed fd");
    args.cr_fd = 1;
    args.cr_target = 999999999;
    errno = 0;
    EXPECT(cr_request_checkpoint(&args, &h) == -1 && errno == ESRCH, "request for no process");
    pid_t child = fork();
    if (child == 0) {
        execlp("sleep", "sleep", "5", (char *)NULL); /* no runtime in it */
        _exit(1);
    }
    usleep(200000);
    args.cr_target = child;
    errno = 0;
    EXPECT(cr_request_checkpoint(&args, &h) == -1 && errno == CR_ENOSUPPORT, "request for a process without the runtime");
    kill(child, 9);
    waitpid(child, NULL, 0);
    args.cr_target = 0;
    args.cr_flags = CR_CHKPT_PROHIBIT_SELF;
    errno = 0;
    EXPECT(cr_request_checkpoint(&args, &h) == -1 && errno == EDEADLK, "self request with PROHIBIT_SELF");
    h = 0;
    errno = 0;
    EXPECT(cr_reap_checkpoint(&h) == -1 && errno == EINVAL, "reap without a request");
    EXPECT(!strcmp(cr_strerror(CR_ENOTCB), "Allowed only inside a checkpoint callback"), "cr_strerror of CR_ENOTCB");
    EXPECT(!strcmp(cr_strerror(ENOENT), strerror(ENOENT)), "cr_strerror of ENOENT");
    EXPECT(CR_ETEMPFAIL == 2354 && CR_ENOINIT == 2365 && CR_SCOPE_TREE == 3 && CR_THREAD_CONTEXT == 0x4000000,
           "BLCR's constant values");
    cr_spinlock_t lock = CR_SPINLOCK_INITIALIZER;
    cr_spinlock_lock(&lock);
    EXPECT(!cr_spinlock_trylock(&lock), "a held spinlock");
    cr_spinlock_unlock(&lock);
    EXPECT(cr_spinlock_trylock(&lock), "a free spinlock");
    EXPECT(cr_hold_ctrl(CR_HOLD_SCOPE_INIT, CR_HOLD_READ) == CR_HOLD_BOTH, "default hold");
    printf("%d failures\n", failures);
    return failures != 0;
}
