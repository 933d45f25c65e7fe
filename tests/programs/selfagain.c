/* Checkpoints itself twice through libcr (a self request: the runtime's wake eventfd),
 * first into DIR/a.ctx, then into DIR/b.ctx, printing 1..6 around them.  Restarted
 * from a.ctx it must make the second request again, and its manager thread must sleep
 * meanwhile.  It lowers its soft fd limit first (MPI libraries change theirs too): the
 * runtime's fds then sit elsewhere at restart than at start.  After the second request
 * it prints "manager TICKS": the CPU time (clock ticks) the cr-manager thread used in
 * the half second that followed.
 * usage: selfagain DIR */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libcr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static int self_checkpoint(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    cr_checkpoint_args_t args;
    cr_initialize_checkpoint_args_t(&args);
    args.cr_fd = fd;
    cr_checkpoint_handle_t h;
    if (cr_request_checkpoint(&args, &h) < 0) {
        fprintf(stderr, "request: %s\n", cr_strerror(errno));
        return -1;
    }
    int rc;
    while ((rc = cr_poll_checkpoint(&h, NULL)) == 0)
        ;
    close(fd);
    return rc < 0 && errno != CR_ERESTARTED ? -1 : 0;
}

/* utime + stime of the thread named cr-manager, in clock ticks */
static long manager_ticks(void)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    long ticks = -1;
    while (d && (e = readdir(d))) {
        char path[300], buf[1024];
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "/proc/self/task/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = 0;
        char *p = strrchr(buf, ')');
        if (!strstr(buf, "(cr-manager)") || !p)
            continue;
        long ut = 0, st = 0;
        /* after ")": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
        if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &ut, &st) == 2)
            ticks = ut + st;
    }
    if (d)
        closedir(d);
    return ticks;
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    if (cr_init() < 0) {
        perror("cr_init");
        return 1;
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur >= 1024 && rl.rlim_cur != RLIM_INFINITY) {
        rl.rlim_cur /= 2;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    char a[4200], b[4200];
    snprintf(a, sizeof a, "%s/a.ctx", argv[1]);
    snprintf(b, sizeof b, "%s/b.ctx", argv[1]);
    for (int i = 1; i <= 6; i++) {
        printf("%d\n", i);
        fflush(stdout);
        if ((i == 2 && self_checkpoint(a) < 0) || (i == 4 && self_checkpoint(b) < 0))
            return 1;
    }
    long before = manager_ticks();
    struct timespec ts = { 0, 500 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    printf("manager %ld\n", manager_ticks() - before);
    return 0;
}
