/* Blocks in read() on stdin; echoes each line with a running count and hash. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
    char buf[4096];
    unsigned long hash = 5381, lines = 0;
    ssize_t n;
    while ((n = read(0, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            hash = hash * 33 + (unsigned char)buf[i];
            if (buf[i] == '\n')
                lines++;
        }
        printf("read %zd bytes, %lu lines, hash %lu\n", n, lines, hash);
        fflush(stdout);
    }
    printf("eof after %lu lines\n", lines);
    return 0;
}
