/* Corrupts a valid context file in many ways (flipped bytes, truncations, inserted
 * and swapped bytes) and checks that the reader refuses every one without crashing. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "context_reader.h"

static int check(const char *path, const unsigned char *buf, size_t len, const char *what)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, buf, len) != (ssize_t)len) {
        perror(path);
        exit(2);
    }
    close(fd);
    struct ctx_image img;
    char err[1024];
    int rc = ctx_open(path, &img, err, sizeof err);
    if (rc == 0) {
        rc = ctx_verify_data(&img, err, sizeof err);
        ctx_close(&img);
    }
    if (rc == 0) {
        fprintf(stderr, "accepted a corrupt file: %s\n", what);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: fuzz_reader VALID_FILE SCRATCH_FILE ITERATIONS [SEED]\n");
        return 2;
    }
    int fd = open(argv[1], O_RDONLY);
    off_t len = fd < 0 ? -1 : lseek(fd, 0, SEEK_END);
    if (len <= 0) {
        perror(argv[1]);
        return 2;
    }
    unsigned char *orig = malloc((size_t)len), *buf = malloc((size_t)len + 64);
    if (pread(fd, orig, (size_t)len, 0) != len)
        return 2;
    close(fd);
    int iters = atoi(argv[3]);
    srand(argc > 4 ? (unsigned)atoi(argv[4]) : 1);
    int bad = 0;
    char what[128];
    /* the valid file itself must pass */
    struct ctx_image img;
    char err[1024];
    if (ctx_open(argv[1], &img, err, sizeof err) < 0 || ctx_verify_data(&img, err, sizeof err) < 0) {
        fprintf(stderr, "the valid file is refused: %s\n", err);
        return 1;
    }
    size_t meta_end = img.hdr.data_offset;
    ctx_close(&img);
    for (int i = 0; i < iters; i++) {
        memcpy(buf, orig, (size_t)len);
        size_t n = (size_t)len;
        int kind = rand() % 5;
        size_t off = (size_t)rand() % (size_t)len;
        if (kind == 1 || (kind == 0 && i % 2)) /* half the flips in the metadata */
            off = (size_t)rand() % meta_end;
        switch (kind) {
        case 0:
        case 1:
            buf[off] ^= (unsigned char)(1u << (rand() % 8));
            snprintf(what, sizeof what, "bit flip at %zu", off);
            break;
        case 2:
            n = off;
            snprintf(what, sizeof what, "truncated to %zu", off);
            break;
        case 3:
            memmove(buf + off + 1, buf + off, n - off);
            buf[off] = (unsigned char)rand();
            n++;
            snprintf(what, sizeof what, "byte inserted at %zu", off);
            break;
        default: {
            size_t o2 = (size_t)rand() % (size_t)len;
            if (buf[off] == buf[o2])
                buf[off] ^= 0x55;
            else {
                unsigned char t = buf[off];
                buf[off] = buf[o2];
                buf[o2] = t;
            }
            snprintf(what, sizeof what, "bytes %zu and %zu swapped", off, o2);
        }
        }
        bad += check(argv[2], buf, n, what);
    }
    printf("%d corruptions, %d accepted\n", iters, bad);
    free(orig);
    free(buf);
    return bad ? 1 : 0;
}
