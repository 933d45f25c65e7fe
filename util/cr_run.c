/* cr_run: run a program under the slurm-cr runtime, so that it can be checkpointed. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef CR_RUN_LIB
#define CR_RUN_LIB "libcr_run.so"
#endif
#ifndef CR_OMIT_LIB
#define CR_OMIT_LIB "libcr_omit.so"
#endif

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: cr_run [--omit | --run] [--] PROGRAM [ARGS...]\n"
            "Run PROGRAM with the slurm-cr runtime preloaded, so that cr_checkpoint can\n"
            "checkpoint it (and its children started later) at any time.\n\n"
            "  --omit         leave PROGRAM and its descendants out of checkpoints\n"
            "                 (a request for them fails with ESRCH; no file is written)\n"
            "  --run          undo an --omit given before (the default)\n"
            "  -h, -?, --help show this help\n"
            "  -V, --version  show the version\n\n"
            "Environment: CR_RUN_LIB overrides the runtime library (%s),\n"
            "CR_OMIT_LIB the one --omit uses (%s).\n", CR_RUN_LIB, CR_OMIT_LIB);
}

int main(int argc, char **argv)
{
    int i = 1, omit = 0;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--omit") || !strcmp(argv[i], "--run")) {
            omit = !strcmp(argv[i], "--omit");
            continue;
        }
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "-?") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "-V") || !strcmp(argv[i], "--version")) {
            printf("cr_run (slurm-cr) %s\n", PACKAGE_VERSION);
            return 0;
        }
        if (!strcmp(argv[i], "--")) {
            i++;
            break;
        }
        fprintf(stderr, "cr_run: unknown option '%s' (see cr_run --help)\n", argv[i]);
        return EINVAL;
    }
    if (i >= argc) {
        usage(stderr);
        return EINVAL;
    }
    const char *lib = getenv(omit ? "CR_OMIT_LIB" : "CR_RUN_LIB");
    if (!lib || !*lib)
        lib = omit ? CR_OMIT_LIB : CR_RUN_LIB;
    if (access(lib, R_OK) < 0) {
        fprintf(stderr, "cr_run: cannot use the runtime %s: %s (reinstall slurm-cr or set "
                        "CR_RUN_LIB)\n", lib, strerror(errno));
        return errno;
    }
    const char *old = getenv("LD_PRELOAD");
    char *preload;
    if (asprintf(&preload, "%s%s%s", lib, old && *old ? ":" : "", old ? old : "") < 0)
        return ENOMEM;
    setenv("LD_PRELOAD", preload, 1);
    execvp(argv[i], argv + i);
    int e = errno;
    fprintf(stderr, "cr_run: cannot run %s: %s\n", argv[i], strerror(e));
    return e == ENOENT ? 127 : 126;
}
