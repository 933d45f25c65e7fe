/* Test helper: changes one field of a context file and recomputes its checksums, to
 * produce files that are well-formed but must be refused for what they say
 * (a newer version, another architecture, another kernel's vdso, another owner, a
 * process identity its owner edited). */
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "context_format.h"
#include "crc32c.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: ctxedit FILE header.version|header.arch|header.uid|proc.vdso_crc|proc.uid|proc.euid|proc.gid|proc.egid=VALUE\n");
        return 2;
    }
    int fd = open(argv[1], O_RDWR);
    struct ctx_header h;
    if (fd < 0 || pread(fd, &h, sizeof h, 0) != sizeof h) {
        perror(argv[1]);
        return 2;
    }
    char *eq = strchr(argv[2], '=');
    if (!eq)
        return 2;
    unsigned long long v = strtoull(eq + 1, NULL, 0);
    *eq = 0;
    if (!strcmp(argv[2], "header.version"))
        h.version = (uint32_t)v;
    else if (!strcmp(argv[2], "header.arch"))
        h.arch = (uint32_t)v;
    else if (!strcmp(argv[2], "header.uid"))
        h.uid = (uint32_t)v;
    else if (!strncmp(argv[2], "proc.", 5)) {
        struct ctx_rec r;
        off_t off = (off_t)h.records_offset;
        if (pread(fd, &r, sizeof r, off) != sizeof r || r.type != CTX_REC_PROC)
            return 2;
        char *pl = malloc(r.length);
        if (pread(fd, pl, r.length, off + (off_t)sizeof r) != (ssize_t)r.length)
            return 2;
        struct ctx_proc *p = (struct ctx_proc *)pl;
        const char *f = argv[2] + 5;
        if (!strcmp(f, "vdso_crc"))
            p->vdso_crc = v;
        else if (!strcmp(f, "uid"))
            p->uid = (uint32_t)v;
        else if (!strcmp(f, "euid"))
            p->euid = (uint32_t)v;
        else if (!strcmp(f, "gid"))
            p->gid = (uint32_t)v;
        else if (!strcmp(f, "egid"))
            p->egid = (uint32_t)v;
        else
            return fprintf(stderr, "unknown field %s\n", argv[2]), 2;
        r.crc = crc32c(crc32c(0, &r, 12), pl, r.length);
        if (pwrite(fd, &r, sizeof r, off) != sizeof r ||
            pwrite(fd, pl, r.length, off + (off_t)sizeof r) != (ssize_t)r.length)
            return 2;
    } else {
        fprintf(stderr, "unknown field %s\n", argv[2]);
        return 2;
    }
    h.header_crc = crc32c(0, &h, offsetof(struct ctx_header, header_crc));
    if (pwrite(fd, &h, sizeof h, 0) != sizeof h)
        return 2;
    return close(fd) ? 2 : 0;
}
