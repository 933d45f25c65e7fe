/* Every kind of fd in the table (libcr/resources/) is whole: a name, a validator for
 * its records and a line for cr_info, one entry per kind; and the reader refuses a
 * record of a kind the table does not have.  Exit 0, or 1 naming what is missing. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "resources/resources.h"
#include "context_reader.h"

int main(void)
{
    int bad = 0, n = 0;
    for (const struct cr_fd_ops *const *k = cr_fd_kinds; *k; k++, n++) {
        const struct cr_fd_ops *o = *k;
        if (!o->name || !o->valid || !o->describe) {
            fprintf(stderr, "kind %u (%s) has no %s\n", o->kind, o->name ? o->name : "?",
                    !o->name ? "name" : !o->valid ? "validator (valid)" : "description (describe)");
            bad = 1;
        }
        if (cr_fd_kind(o->kind) != o) {
            fprintf(stderr, "kind %u (%s) is in the table twice\n", o->kind, o->name);
            bad = 1;
        }
    }
    /* a record of an unknown kind, framed right: refused */
    struct {
        struct ctx_fd f;
        char path[8];
    } r;
    memset(&r, 0, sizeof r);
    r.f.fd = 3;
    r.f.path_len = 2;
    r.f.source_fd = -1;
    strcpy(r.path, "/");
    static const uint32_t unknown[] = { 0, 1000, 0xffffffffu };
    for (size_t i = 0; i < sizeof unknown / sizeof *unknown; i++) {
        r.f.kind = unknown[i];
        if (ctx_fd_record_ok(&r.f, NULL, 0)) {
            fprintf(stderr, "a record of kind %u, which no entry has, is accepted\n", unknown[i]);
            bad = 1;
        }
    }
    if (!bad)
        printf("%d kinds, each with a validator and a description\n", n);
    return bad;
}
