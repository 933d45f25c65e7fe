/* BLCR compatibility (a): a program that includes only <libcr.h>, as BLCR programs do,
 * and names every part of the restart API with BLCR's types.  Built with the flags
 * of `pkg-config slurm-cr` only, it also checks what it can without a context file:
 * BLCR's values, the initializer's defaults, and BLCR's errno for each misuse.
 * Prints "ok" and exits 0, or says what differs and exits 1. */
#include <libcr.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int bad;

#define CHECK(cond, ...) do { if (!(cond)) { printf(__VA_ARGS__); printf("\n"); bad = 1; } } while (0)

/* a call that must fail with -1 (or the given value) and errno e */
#define FAILS(call, want_rc, e) do {                                                      \
        errno = 0;                                                                        \
        int rc_ = (call);                                                                 \
        CHECK(rc_ == (want_rc) && errno == (e), "%s: rc %d errno %d (%s), want %d / %d",  \
              #call, rc_, errno, cr_strerror(errno), (want_rc), (e));                     \
    } while (0)

int main(void)
{
    /* BLCR's values */
    CHECK(CR_RSTRT_ASYNC_ERR == 1 && CR_RSTRT_RESTORE_PID == 2 && CR_RSTRT_RESTORE_PGID == 4 &&
          CR_RSTRT_RESTORE_SID == 8, "CR_RSTRT_* flags differ from BLCR's");
    CHECK(CR_MAX_RSTRT_RELOC == 16, "CR_MAX_RSTRT_RELOC is %d", CR_MAX_RSTRT_RELOC);
    CHECK(CR_RSTRT_RELOCATE_SIZE(3) == sizeof(struct cr_rstrt_relocate) + 3 * sizeof(struct cr_rstrt_relocate_pair),
          "CR_RSTRT_RELOCATE_SIZE is wrong");
    CHECK(CR_POLL_RSTRT_ERR_PRE == -1 && CR_POLL_RSTRT_ERR_POST == -2 && CR_POLL_RSTRT_ERR_LOG == -3,
          "CR_POLL_RSTRT_ERR_* differ from BLCR's");
    CHECK(CR_ETEMPFAIL == 2354 && CR_ENOINIT == 2365 && CR_ERSTRTABRT == 2362,
          "error codes moved: CR_ETEMPFAIL %d CR_ERSTRTABRT %d CR_ENOINIT %d", CR_ETEMPFAIL,
          CR_ERSTRTABRT, CR_ENOINIT);
    CHECK(CR_RELEASE_MAJOR == 0 && CR_RELEASE_MINOR == 8 && !strcmp(CR_RELEASE_VERSION, "0.8.6"),
          "CR_RELEASE_* is not 0.8.6");
    CHECK(LIBCR_MAJOR == 0 && CR_RESTART_ARGS_VERSION == 1, "LIBCR_MAJOR %d, CR_RESTART_ARGS_VERSION %d",
          LIBCR_MAJOR, CR_RESTART_ARGS_VERSION);
    CHECK(CR_SIGNUM > 0, "no CR_SIGNUM");
    CHECK(!strcmp(cr_strerror(CR_ERSTRTABRT), "Restart aborted"), "cr_strerror(CR_ERSTRTABRT) = %s",
          cr_strerror(CR_ERSTRTABRT));

    /* the relocation list as BLCR programs allocate it */
    struct cr_rstrt_relocate *rl = malloc(CR_RSTRT_RELOCATE_SIZE(CR_MAX_RSTRT_RELOC));
    struct cr_rstrt_relocate_pair *pair = &rl->path[0];
    pair->oldpath = "/old";
    pair->newpath = "/new";
    rl->count = 1;

    /* the initializer: BLCR's macro over the versioned function */
    cr_restart_args_t args;
    memset(&args, 0x5a, sizeof args);
    CHECK(cr_initialize_restart_args_t(&args) == 0, "cr_initialize_restart_args_t failed");
    CHECK(args.cr_version == CR_RESTART_ARGS_VERSION && args.cr_fd < 0 && args.cr_signal == 0 &&
          args.cr_flags == CR_RSTRT_RESTORE_PID /* BLCR's */ && args.cr_relocate == NULL,
          "cr_initialize_restart_args_t: wrong defaults");
    FAILS(cri_init_restart_args_t(CR_RESTART_ARGS_VERSION + 1, &args), -1, CR_EVERSION);
    FAILS(cri_init_restart_args_t(CR_RESTART_ARGS_VERSION, NULL), -1, EINVAL);

    /* a bad handle is EINVAL everywhere (BLCR); the poll says where it failed */
    cr_restart_handle_t h = 12345;
    struct timeval tv = { 0, 0 };
    char buf[64], *msg = NULL;
    FAILS(cr_wait_restart(&h, &tv), -1, EINVAL);
    FAILS(cr_reap_restart(&h), -1, EINVAL);
    FAILS(cr_log_restart(&h, sizeof buf, buf), -1, EINVAL);
    FAILS(cr_poll_restart(&h, &tv), CR_POLL_RSTRT_ERR_PRE, EINVAL);
    FAILS(cr_poll_restart_msg(&h, NULL, &msg), CR_POLL_RSTRT_ERR_PRE, EINVAL);
    FAILS(cr_reap_restart(NULL), -1, EINVAL);

    /* requests that cannot start */
    cr_initialize_restart_args_t(&args);
    FAILS(cr_request_restart(&args, &h), -1, EBADF); /* cr_fd -1 */
    FAILS(cr_request_restart(NULL, &h), -1, EINVAL);
    int fd = open("/dev/null", O_RDONLY);
    args.cr_fd = fd;
    args.cr_flags = 0x100;
    FAILS(cr_request_restart(&args, &h), -1, EINVAL);
    args.cr_flags = 0;
    args.cr_signal = 65;
    FAILS(cr_request_restart(&args, &h), -1, EINVAL);
    args.cr_signal = 0;
    rl->count = CR_MAX_RSTRT_RELOC + 1;
    args.cr_relocate = rl;
    FAILS(cr_request_restart(&args, &h), -1, EINVAL);
    rl->count = 1;
    pair->newpath = "relative";
    FAILS(cr_request_restart(&args, &h), -1, EINVAL);
    pair->newpath = "/new";
    args.cr_version = 7;
    FAILS(cr_request_restart(&args, &h), -1, CR_EVERSION);

    /* CR_RSTRT_ASYNC_ERR: the request is taken, the reap reports the error, and the
     * log says why; the handle is gone after the reap */
    cr_initialize_restart_args_t(&args);
    args.cr_flags = CR_RSTRT_ASYNC_ERR;
    args.cr_fd = 1000; /* not open */
    CHECK(cr_request_restart(&args, &h) == 0, "ASYNC_ERR request refused: %s", cr_strerror(errno));
    CHECK(cr_wait_restart(&h, NULL) == 1, "ASYNC_ERR request not done");
    CHECK(cr_log_restart(&h, 0, NULL) > 1, "ASYNC_ERR request has no log");
    FAILS(cr_poll_restart_msg(&h, NULL, &msg), CR_POLL_RSTRT_ERR_POST, EBADF);
    CHECK(msg && *msg, "cr_poll_restart_msg gave no message");
    free(msg);
    FAILS(cr_reap_restart(&h), -1, EINVAL);

    close(fd);
    free(rl);
    if (!bad)
        printf("ok\n");
    return bad;
}
