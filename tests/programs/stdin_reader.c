/* Blocks in read() on stdin, one byte at a time, and reports each line with a
 * running count and hash (the same whatever way the input arrives). */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    unsigned long hash = 5381, lines = 0;
    char c;
    while (read(0, &c, 1) == 1) {
        hash = hash * 33 + (unsigned char)c;
        if (c == '\n') {
            lines++;
            printf("line %lu hash %lu\n", lines, hash);
            fflush(stdout);
        }
    }
    printf("eof after %lu lines\n", lines);
    return 0;
}
