/* A BLCR-style requester: asks, through libcr, for a checkpoint of another process
 * with the given scope (proc, pgrp, sess, tree) into FILE, and waits for it.
 * usage: api_request PID FILE SCOPE [SIGNAL] */
#include <errno.h>
#include <fcntl.h>
#include <libcr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    static const char *const names[] = { "proc", "pgrp", "sess", "tree" };
    int scope = -1;
    for (int i = 0; i < 4; i++)
        if (!strcmp(argv[3], names[i]))
            scope = i;
    if (scope < 0)
        return 2;
    if (cr_init() < 0) {
        perror("cr_init");
        return 1;
    }
    int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return 1;
    cr_checkpoint_args_t args;
    cr_initialize_checkpoint_args_t(&args);
    args.cr_target = atoi(argv[1]);
    args.cr_scope = (cr_scope_t)scope;
    args.cr_fd = fd;
    args.cr_signal = argc > 4 ? atoi(argv[4]) : 0;
    cr_checkpoint_handle_t h;
    if (cr_request_checkpoint(&args, &h) < 0) {
        printf("request: %s\n", cr_strerror(errno));
        return 1;
    }
    int rc;
    while ((rc = cr_poll_checkpoint(&h, NULL)) == 0)
        ;
    if (rc < 0) {
        char msg[1024] = "";
        cr_log_checkpoint(&h, sizeof msg, msg);
        printf("checkpoint: %s (%s)\n", cr_strerror(errno), msg);
        return 1;
    }
    printf("checkpoint done\n");
    return 0;
}
