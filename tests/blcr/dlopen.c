/* BLCR compatibility (d): a program not linked with libcr loads it at run time by its
 * soname, built as BLCR programs build it: "libcr.so." followed by LIBCR_MAJOR (a
 * number, as in BLCR, made a string with the usual two-level stringify).  It finds the
 * checkpoint and restart entry points there, and they work: cr_init, the restart
 * initializer, and a restart request refused with BLCR's errno. */
#include <dlfcn.h>
#include <libcr.h>
#include <stdio.h>
#include <string.h>

#define STR_(x) #x
#define STR(x) STR_(x)

int main(void)
{
    const char name[] = "libcr.so." STR(LIBCR_MAJOR);
    if (dlsym(RTLD_DEFAULT, "cr_init")) {
        printf("cr_init is there before dlopen: the test is not testing dlopen\n");
        return 1;
    }
    void *lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        printf("dlopen(\"%s\"): %s\n", name, dlerror());
        return 1;
    }
    static const char *const names[] = {
        "cr_init", "cri_init_checkpoint_args_t", "cr_request_checkpoint", "cr_poll_checkpoint",
        "cri_init_restart_args_t", "cr_request_restart", "cr_poll_restart", "cr_poll_restart_msg",
        "cr_wait_restart", "cr_log_restart", "cr_reap_restart", "cr_strerror",
    };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (!dlsym(lib, names[i])) {
            printf("%s has no %s\n", name, names[i]);
            return 1;
        }
    cr_client_id_t (*init)(void) = (cr_client_id_t (*)(void))dlsym(lib, "cr_init");
    int (*init_args)(cr_version_t, cr_restart_args_t *) =
        (int (*)(cr_version_t, cr_restart_args_t *))dlsym(lib, "cri_init_restart_args_t");
    int (*request)(cr_restart_args_t *, cr_restart_handle_t *) =
        (int (*)(cr_restart_args_t *, cr_restart_handle_t *))dlsym(lib, "cr_request_restart");
    if (init() < 0) {
        printf("cr_init through dlopen failed\n");
        return 1;
    }
    cr_restart_args_t args;
    cr_restart_handle_t h;
    if (init_args(CR_RESTART_ARGS_VERSION, &args) < 0 || args.cr_fd != -1) {
        printf("cri_init_restart_args_t through dlopen failed\n");
        return 1;
    }
    errno = 0;
    if (request(&args, &h) != -1 || errno != EBADF) {
        printf("cr_request_restart without a file: errno %d, want EBADF\n", errno);
        return 1;
    }
    printf("ok %s\n", name);
    return 0;
}
