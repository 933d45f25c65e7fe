/* Files deleted while open, as temporary files are: one unlinked after open(), one
 * made with O_TMPFILE and grown past a megabyte.  Each step writes to both and hashes
 * their whole contents.  usage: deleted DIR STEPS */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static unsigned long hash_all(int fd, unsigned long h)
{
    static char buf[1 << 16];
    struct stat st;
    fstat(fd, &st);
    for (off_t off = 0; off < st.st_size;) {
        ssize_t n = pread(fd, buf, sizeof buf, off);
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n; i++)
            h = h * 33 + (unsigned char)buf[i];
        off += n;
    }
    return h;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    char path[4096];
    snprintf(path, sizeof path, "%s/scratch", argv[1]);
    int a = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    unlink(path);
    int b = open(argv[1], O_TMPFILE | O_RDWR, 0600);
    if (a < 0 || b < 0) {
        perror("open");
        return 1;
    }
    static char block[40000];
    for (int s = 0; s < atoi(argv[2]); s++) {
        char line[64];
        int n = snprintf(line, sizeof line, "line %d\n", s);
        memset(block, 'a' + s % 26, sizeof block);
        if (write(a, line, (size_t)n) != n || write(b, block, sizeof block) != (ssize_t)sizeof block)
            return 1;
        struct stat sa, sb;
        fstat(a, &sa);
        fstat(b, &sb);
        printf("step %d sizes %lld %lld hash %lu\n", s, (long long)sa.st_size, (long long)sb.st_size,
               hash_all(b, hash_all(a, 5381)));
        fflush(stdout);
        struct timespec ts = { 0, 60 * 1000000L };
        nanosleep(&ts, NULL);
    }
    return 0;
}
