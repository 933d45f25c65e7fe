/* libFuzzer harness for the context-file reader: any bytes handed to cr_restart or
 * cr_info must be refused with a message, never read out of bounds (make fuzz). */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "context_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    if (fd < 0 && (fd = memfd_create("fuzz-image", 0)) < 0)
        return 0;
    if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        return 0;
    char path[64], err[1024];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    struct ctx_tree t;
    if (ctx_tree_open(path, &t, err, sizeof err) == 0) {
        for (uint32_t i = 0; i < t.n; i++)
            if (t.images[i].proc)
                ctx_verify_data(&t.images[i], err, sizeof err);
        ctx_tree_close(&t);
    }
    return 0;
}
